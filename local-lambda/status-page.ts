// The local Lambda service's own page (GET / on the Lambda API port, http://127.0.0.1:9001/): per
// function its environments (starting, idle, busy), cold starts, throttles and reservation, and the
// account's concurrency, from /health, refreshed every second. A page and a script, no framework;
// the script is served from its own path so that the page's CSP allows no inline code.

export const STATUS_PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Local Lambda service</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
  table { border-collapse: collapse; margin-top: 1em; }
  th, td { padding: 4px 12px; border-bottom: 1px solid #ddd; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  .busy { color: #b35900; font-weight: 600; }
  .throttled { color: #b00020; font-weight: 600; }
  #account { color: #555; }
</style>
</head>
<body>
<h1>Local Lambda service</h1>
<p id="account">loading /health ...</p>
<table>
  <thead><tr><th>function</th><th>starting</th><th>idle</th><th>busy</th><th>waiting</th><th>cold starts</th><th>throttles</th><th>reserved</th></tr></thead>
  <tbody id="functions"></tbody>
</table>
<script src="/status.js"></script>
</body>
</html>
`;

export const STATUS_PAGE_SCRIPT = `
const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = String(text); if (cls) td.className = cls; return td; };
async function refresh() {
  try {
    const health = await (await fetch('/health')).json();
    const a = health.account || {};
    document.getElementById('account').textContent = 'stack ' + health.stack + ' (' + health.status + '): account concurrency ' + a.concurrency + ' (AWS default ' + a.awsDefaultConcurrency + '), ' + a.unreservedAvailable + ' unreserved free, ' + a.environments + ' environments; idle ones go after ' + (health.limits || {}).idleEnvironmentSeconds + ' s';
    const rows = Object.entries(health.functions || {}).map(([name, f]) => {
      const tr = document.createElement('tr');
      const e = f.environments;
      tr.append(cell(name), cell(e.starting), cell(e.idle), cell(e.busy, e.busy ? 'busy' : ''), cell(f.waiting), cell(f.coldStarts), cell(f.throttles, f.throttles ? 'throttled' : ''), cell(f.reservedConcurrency ?? '-'));
      return tr;
    });
    document.getElementById('functions').replaceChildren(...rows);
  } catch (error) {
    document.getElementById('account').textContent = 'the service does not answer: ' + error.message;
  }
}
refresh();
setInterval(refresh, 1000);
`;
