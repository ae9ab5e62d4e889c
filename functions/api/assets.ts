// The dashboard's three files, bundled beside the handler at build time (docker/bundle.mjs writes
// dashboard/ next to handler.mjs) and read once at cold start.
import { readFileSync } from 'node:fs';

export interface DashboardAssets {
  html: string;
  js: string;
  css: string;
}

export function loadAssets(dir: URL): DashboardAssets {
  const read = (name: string) => {
    try {
      return readFileSync(new URL(name, dir), 'utf8');
    } catch {
      return undefined;
    }
  };
  const html = read('index.html');
  const js = read('app.js');
  const css = read('app.css');
  if (html === undefined || js === undefined || css === undefined) {
    // A handler run from source (tests, tsx) has no bundle: say so rather than serve a blank page.
    const missing = '<!doctype html><title>dashboard not built</title><p>The dashboard is bundled with the image (docker/bundle.mjs api). Run <code>make build FUNCTION=api</code>.</p>';
    return { html: html ?? missing, js: js ?? '', css: css ?? '' };
  }
  return { html, js, css };
}
