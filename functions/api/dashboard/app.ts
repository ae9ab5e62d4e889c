// The dashboard: drop files, upload each straight to S3 with the presigned POST the api hands out,
// then watch its pipeline through the api until it is PROCESSED or FAILED. Plain DOM, no framework;
// every text from the server goes through textContent, never as HTML.

interface Item {
  key: string;
  function: string;
  status: string;
  reason?: string;
  createdAt: string;
  durationMs: number;
}

interface Detail {
  key: string;
  status: 'PENDING' | 'IN_PROGRESS' | 'PROCESSED' | 'FAILED';
  items: Item[];
  thumbnails: Array<{ width: number; height: number; bytes: number; url: string }>;
  import?: { dataset: string; table: string; rowsRead: number; rowsWritten: number; rowsSkipped: number; rowsRejected: number; rejectedRows?: { key: string; url: string }; inProgress?: boolean; invocations?: number };
}

interface Config {
  datasets: string[];
  limits: { imageBytes: number; csvBytes: number };
  imageTypes: string[];
}

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector<T>(selector)!;

/** An element with text and attributes; children appended. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  const body = (await res.json().catch(() => ({}))) as T & { message?: string };
  if (!res.ok) throw new Error(body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

/** 812 B, 1.1 KiB, 4.5 MiB: the unit that keeps the number readable. */
const size = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)} MiB`;
const time = (iso: string) => new Date(iso).toLocaleTimeString();

function setStatus(text: string, problem = false): void {
  const status = $('#api-status');
  status.textContent = text;
  status.classList.toggle('problem', problem);
}

let config: Config = { datasets: [], limits: { imageBytes: 0, csvBytes: 0 }, imageTypes: [] };

/** One card per file dropped: its progress, then what its pipeline made of it. */
class UploadCard {
  readonly node: HTMLLIElement;
  private readonly state: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly file: File) {
    this.state = el('span', { class: 'state' }, 'asking for an upload URL');
    this.body = el('div', { class: 'body' });
    this.node = el('li', { class: 'card', 'data-status': 'REQUESTED' }, el('div', { class: 'title' }, el('strong', {}, file.name), ' ', el('small', {}, size(file.size))), this.state, this.body);
  }

  private set(status: string, text: string): void {
    this.node.dataset.status = status;
    this.state.textContent = text;
  }

  async run(): Promise<void> {
    try {
      const isCsv = /\.csv$/i.test(this.file.name);
      const request = { kind: isCsv ? 'csv' : 'image', filename: this.file.name, contentType: this.file.type, size: this.file.size, ...(isCsv && { dataset: $<HTMLSelectElement>('#dataset').value }) };
      const grant = await api<{ key: string; url: string; fields: Record<string, string> }>('uploads', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
      this.node.dataset.key = grant.key;
      this.node.querySelector('.title')!.append(el('code', { class: 'key' }, grant.key));
      await this.upload(grant.url, grant.fields);
      this.set('UPLOADED', 'uploaded; waiting for its pipeline');
      await this.watch(grant.key);
    } catch (error) {
      this.set('ERROR', (error as Error).message);
    }
  }

  /** The presigned POST, with progress (fetch cannot report upload progress; XHR can). */
  private upload(url: string, fields: Record<string, string>): Promise<void> {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', this.file); // last: S3 ignores fields after the file
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.upload.onprogress = (e) => e.lengthComputable && this.set('UPLOADING', `uploading ${Math.floor((100 * e.loaded) / e.total)} %`);
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`S3 refused the upload (${xhr.status}): ${/<Message>(.*?)<\/Message>/.exec(xhr.responseText)?.[1] ?? xhr.statusText}`)));
      xhr.onerror = () => reject(new Error('the upload to S3 failed (network error or CORS)'));
      xhr.send(form);
    });
  }

  private async watch(key: string): Promise<void> {
    const deadline = Date.now() + 10 * 60_000;
    for (let wait = 500; Date.now() < deadline; wait = Math.min(wait * 1.5, 3000)) {
      const detail = await api<Detail>(`uploads/${encodeURIComponent(key)}`).catch(() => undefined);
      if (detail?.status === 'IN_PROGRESS') this.show(detail);
      else if (detail && detail.status !== 'PENDING') return this.show(detail);
      await new Promise((r) => setTimeout(r, wait));
    }
    this.set('UPLOADED', 'still waiting after 10 minutes: is the stack running?');
  }

  private show(d: Detail): void {
    const failed = d.items.find((i) => i.status === 'FAILED');
    const done = d.items.map((i) => `${i.function} ${i.status.toLowerCase()} in ${i.durationMs} ms`).join(', ');
    this.set(d.status, failed ? `${done}: ${failed.reason ?? 'no reason given'}` : done);
    this.body.replaceChildren();
    if (d.thumbnails.length > 0) {
      const strip = el('div', { class: 'thumbnails' });
      for (const t of d.thumbnails) {
        const img = el('img', { class: 'thumbnail', src: t.url, alt: `${t.width} px wide`, 'data-width': String(t.width), loading: 'lazy' });
        strip.append(el('figure', {}, img, el('figcaption', {}, `${t.width}×${t.height}, ${size(t.bytes)}`)));
      }
      this.body.append(strip);
    }
    if (d.import) {
      const i = d.import;
      const facts = el('p', { class: 'import' }, `${i.inProgress ? 'importing: ' : ''}${i.rowsRead} rows read, ${i.rowsWritten} written to ${i.table}, ${i.rowsSkipped} unchanged, ${i.rowsRejected} rejected${i.inProgress ? ' so far' : ''}`);
      if (i.rejectedRows) facts.append(' — ', el('a', { class: 'rejected-rows', href: i.rejectedRows.url, target: '_blank', rel: 'noopener' }, 'rejected rows (CSV)'));
      this.body.append(facts);
    }
  }
}

function accept(files: Iterable<File>): void {
  $('#no-uploads').hidden = true;
  for (const file of files) {
    const card = new UploadCard(file);
    $('#uploads').prepend(card.node);
    void card.run();
  }
}

function row(i: Item): HTMLTableRowElement {
  return el('tr', { 'data-status': i.status }, el('td', {}, time(i.createdAt)), el('td', {}, el('code', {}, i.key)), el('td', {}, i.function), el('td', { class: 'status' }, i.status), el('td', {}, String(i.durationMs)), el('td', {}, i.reason ?? ''));
}

async function refresh(): Promise<void> {
  try {
    const [recent, alerts] = await Promise.all([api<{ items: Item[] }>('uploads?limit=20'), api<{ alerts: Item[] }>('alerts?limit=10')]);
    $('#recent tbody').replaceChildren(...recent.items.map(row));
    $('#alerts').replaceChildren(...(alerts.alerts.length ? alerts.alerts.map((a) => el('li', {}, el('time', {}, time(a.createdAt)), ' ', el('code', {}, a.key), ` ${a.function}: ${a.reason ?? ''}`)) : [el('li', { class: 'empty' }, 'No failures.')]));
    setStatus(`connected · ${recent.items.length} recent items`);
  } catch (error) {
    setStatus(`the api does not answer: ${(error as Error).message}`, true);
  }
}

async function start(): Promise<void> {
  const drop = $('#drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer?.files.length) accept(e.dataTransfer.files);
  });
  $<HTMLInputElement>('#files').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    if (input.files?.length) accept([...input.files]);
    input.value = '';
  });
  try {
    config = await api<Config>('config');
    $('#dataset').replaceChildren(...config.datasets.map((d) => el('option', { value: d }, d)));
    $('#limits').textContent = `· images up to ${size(config.limits.imageBytes)}, CSV files up to ${size(config.limits.csvBytes)}`;
  } catch (error) {
    setStatus(`the api does not answer: ${(error as Error).message}`, true);
  }
  await refresh();
  setInterval(() => void refresh(), 3000);
}

void start();
