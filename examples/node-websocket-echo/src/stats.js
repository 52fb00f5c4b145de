// GET /stats on the HTTP API (payload 2.0), /v1/stats (payload 1.0) and /rest/stats on the REST API.
exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    path: event.rawPath || event.path,
    version: event.version || null,
    stage: event.requestContext.stage,
    runtime: process.env.AWS_EXECUTION_ENV,
    region: process.env.AWS_REGION,
  }),
});
