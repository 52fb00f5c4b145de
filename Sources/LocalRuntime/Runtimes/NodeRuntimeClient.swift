import Foundation

/// The Runtime API client local-runtime runs `nodejs*` functions with (Node ships none; AWS's is
/// built into its images). It is kept in this file so that a copied `local-runtime` binary needs
/// nothing beside it, and written to the state folder when a Node function first starts.
///
/// Contract, as AWS's Node runtime keeps it: `Handler` is `path/to/module.export`; the module is
/// `module.js`, `.mjs` or `.cjs` under `LAMBDA_TASK_ROOT`, CommonJS or ES module; the handler is
/// async (its promise's value is the response) or takes `(event, context, callback)`. An error
/// goes back as `{errorType, errorMessage, trace}`, and a module that fails to load is an init
/// error (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`).
enum NodeRuntimeClient {
    static let fileName = "node-runtime-client.mjs"

    /// Writes the client into `directory` (unless it is there already, unchanged) and returns its path.
    static func install(in directory: String) throws -> String {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        let data = Data(source.utf8)
        if FileManager.default.contents(atPath: path) != data {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return path
    }

    static let source = #"""
    // Lambda Runtime API client for Node.js, shipped with local-runtime.
    import http from 'node:http';
    import fs from 'node:fs';
    import path from 'node:path';
    import { pathToFileURL } from 'node:url';

    const api = process.env.AWS_LAMBDA_RUNTIME_API;
    const slash = api.indexOf('/');
    const authority = slash < 0 ? api : api.slice(0, slash);
    const prefix = slash < 0 ? '' : api.slice(slash);
    const [host, port] = authority.split(':');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const base = `${prefix}/2018-06-01/runtime`;

    function call(method, route, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const request = http.request({ host, port, method, path: base + route, agent, headers }, (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
        });
        request.on('error', reject);
        if (body !== undefined) request.write(body);
        request.end();
      });
    }

    function errorDocument(error, fallbackType) {
      if (error instanceof Error) {
        return { errorType: error.name || fallbackType, errorMessage: error.message, trace: String(error.stack || '').split('\n') };
      }
      return { errorType: fallbackType, errorMessage: typeof error === 'string' ? error : JSON.stringify(error), trace: [] };
    }

    function post(route, document, errorType) {
      const body = JSON.stringify(document === undefined ? null : document);
      const headers = { 'content-type': 'application/json' };
      if (errorType) headers['lambda-runtime-function-error-type'] = errorType;
      return call('POST', route, body, headers);
    }

    async function loadHandler() {
      const handlerName = process.env._HANDLER || '';
      const dot = handlerName.lastIndexOf('.');
      if (dot < 1) {
        const error = new Error(`Bad handler ${handlerName}: expected module.export`);
        error.name = 'Runtime.MalformedHandlerName';
        throw error;
      }
      const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
      const modulePath = path.resolve(root, handlerName.slice(0, dot));
      const exportName = handlerName.slice(dot + 1);
      const file = ['.js', '.mjs', '.cjs', ''].map((extension) => modulePath + extension).find((candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile());
      if (!file) {
        const error = new Error(`Cannot find module '${handlerName.slice(0, dot)}'`);
        error.name = 'Runtime.ImportModuleError';
        throw error;
      }
      let loaded;
      try {
        loaded = await import(pathToFileURL(file).href);
      } catch (cause) {
        const error = new Error(cause && cause.message ? cause.message : String(cause));
        error.name = 'Runtime.ImportModuleError';
        error.stack = cause && cause.stack;
        throw error;
      }
      const handler = loaded[exportName] ?? (loaded.default ? loaded.default[exportName] : undefined);
      if (typeof handler !== 'function') {
        const error = new Error(`${handlerName} is undefined or not exported`);
        error.name = 'Runtime.HandlerNotFound';
        throw error;
      }
      return handler;
    }

    function invokeHandler(handler, event, context) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const finish = (error, result) => {
          if (settled) return;
          settled = true;
          if (error !== null && error !== undefined) reject(error); else resolve(result);
        };
        context.done = finish;
        context.succeed = (result) => finish(null, result);
        context.fail = (error) => finish(error ?? new Error('handled'));
        try {
          const returned = handler(event, context, finish);
          if (returned && typeof returned.then === 'function') returned.then((result) => finish(null, result), (error) => finish(error ?? new Error('rejected')));
          else if (handler.length < 3) finish(null, returned);
        } catch (error) {
          finish(error);
        }
      });
    }

    let handler;
    try {
      handler = await loadHandler();
    } catch (error) {
      console.error(error);
      await post('/init/error', errorDocument(error, 'Runtime.ImportModuleError'), error.name);
      process.exit(1);
    }

    for (;;) {
      const next = await call('GET', '/invocation/next');
      const requestId = next.headers['lambda-runtime-aws-request-id'];
      const deadline = Number(next.headers['lambda-runtime-deadline-ms'] || Date.now() + 3000);
      if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
      const context = {
        awsRequestId: requestId,
        invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
        functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
        functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      };
      try {
        const event = JSON.parse(next.body.toString('utf8'));
        const result = await invokeHandler(handler, event, context);
        await post(`/invocation/${requestId}/response`, result);
      } catch (error) {
        const document = errorDocument(error, 'Error');
        console.error(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(document)}`);
        await post(`/invocation/${requestId}/error`, document, document.errorType);
      }
    }
    """#
}
