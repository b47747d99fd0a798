// What the line blueprints (apachelog-to-json, syslog-to-json) share: each record decoded as `encoding`, its
// line made into JSON text by `transform` (`null` when the line does not match), the answer given through the
// callback; a line that does not match is `ProcessingFailed` with its original data.
'use strict';

exports.lineHandler = (encoding, transform) => (event, context, callback) => {
  const records = event.records.map((record) => {
    const json = transform(Buffer.from(record.data, 'base64').toString(encoding));
    if (json === null) return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    return { recordId: record.recordId, result: 'Ok', data: Buffer.from(json, 'utf8').toString('base64') };
  });
  callback(null, { records });
};
