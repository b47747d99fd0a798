// firehose-bench's Node.js runtime: a small loop over the Lambda Runtime API, as Lambda's own Node.js
// runtime runs a handler. It takes `module.function` (here `_HANDLER`), calls the function with the event, a
// context and a callback (the blueprints answer through the callback; a promise works too), and posts the
// answer, or the error, back. Node's own http module with a keep-alive agent; no packages.
'use strict';

const http = require('http');

const [moduleName, functionName] = process.argv[2].split('.');
const handler = require(`./${moduleName}.js`)[functionName];
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true });
const base = '/2018-06-01/runtime/invocation';

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function invoke(event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    const returned = handler(event, context, callback);
    if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
  });
}

async function main() {
  for (;;) {
    const next = await request('GET', `${base}/next`);
    const id = next.headers['lambda-runtime-aws-request-id'];
    const context = { awsRequestId: id, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME };
    try {
      const result = await invoke(JSON.parse(next.body), context);
      await request('POST', `${base}/${id}/response`, JSON.stringify(result));
    } catch (error) {
      const body = JSON.stringify({ errorType: error.name, errorMessage: error.message });
      await request('POST', `${base}/${id}/error`, body);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
