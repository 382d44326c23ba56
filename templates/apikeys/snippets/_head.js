// Runs with Node.js 18 or later (its built-in fetch), no packages: node get-started.js

async function call(url, options = {}) {
  const response = await fetch(url, options);
  const text = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

async function main() {
