// GET /stats on the HTTP API (payload format 2.0).
exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ path: event.rawPath, runtime: process.env.AWS_EXECUTION_ENV, region: process.env.AWS_REGION }),
});
