// Run once at image build time (docker/Dockerfile): loads the handler and the runtime client so that
// Node's compile cache (NODE_COMPILE_CACHE) holds their compiled code, and a cold start skips
// compiling them. Loading fails here (no configuration, no Runtime API): only compiling matters.
process.on('unhandledRejection', () => undefined);
try {
  await import('/var/task/handler.mjs');
} catch {
  // the handler's configuration is missing at build time: expected
}
try {
  await import('/opt/ric/index.mjs');
} catch {
  // no Runtime API at build time: expected
}
