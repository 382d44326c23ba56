// Runs with Node.js 18 or later (its built-in fetch), no packages: node get-started.js

async function call(url, options = {}) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function main() {
