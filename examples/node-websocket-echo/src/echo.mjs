// $default with a route response: whatever the body's "data" is comes back to the sender.
let echoed = 0;

export const handler = async (event, context) => {
  const { data } = JSON.parse(event.body || '{}');
  if (data === 'fail') throw new Error('asked to fail');
  echoed += 1;
  return {
    statusCode: 200,
    body: JSON.stringify({
      [process.env.GREETING]: data,
      stage: event.requestContext.stage,
      kind: process.env.STAGE_KIND,
      function: context.functionName,
      echoed,
    }),
  };
};
