// $connect, callback style: refuse clients that do not say who they are (?name=...).
exports.handler = (event, context, callback) => {
  const name = (event.queryStringParameters || {}).name;
  callback(null, { statusCode: name ? 200 : 400, body: name ? 'Connected.' : 'name is required' });
};
