import { describe, expect, it } from 'vitest';
import { errorFormat, HttpError } from './http-kit';

// What webob 1.8 (under Glance 25) picks for an error page, run against the installed webob:
// no Accept or an empty one is plain text, `*/*` HTML, JSON only when it wins on q.
describe('error pages negotiated as webob does', () => {
  it('picks the format by the Accept header', () => {
    expect(errorFormat(undefined)).toBe('text/plain');
    expect(errorFormat('')).toBe('text/plain');
    expect(errorFormat('text/plain')).toBe('text/plain');
    expect(errorFormat('application/json;q=0')).toBe('text/plain');
    expect(errorFormat('*/*')).toBe('text/html');
    expect(errorFormat('text/*')).toBe('text/html');
    expect(errorFormat('garbage')).toBe('text/html');
    expect(errorFormat('application/json, text/html')).toBe('text/html');
    expect(errorFormat('application/json')).toBe('application/json');
    expect(errorFormat('text/html;q=0.5, application/json')).toBe('application/json');
    expect(errorFormat('application/*;q=0.5, text/html;q=0.4')).toBe('application/json');
  });

  it('renders each format byte for byte as webob', () => {
    const e = new HttpError(400, 'Status must be "pending" <x> & \'y\'');
    expect(e.render('')).toEqual({
      contentType: 'text/plain; charset=UTF-8',
      body: '400 Bad Request\n\nStatus must be "pending"  & \'y\'\n\n   ',
    });
    expect(e.render('*/*').body).toBe(
      '<html>\n <head>\n  <title>400 Bad Request</title>\n </head>\n <body>\n  <h1>400 Bad Request</h1>\n' +
        '  Status must be &quot;pending&quot; &lt;x&gt; &amp; &#x27;y&#x27;<br /><br />\n\n\n\n </body>\n</html>',
    );
    expect(JSON.parse(e.render('application/json').body)).toEqual({
      message: 'Status must be "pending" <x> & \'y\'<br /><br />\n\n\n',
      code: '400 Bad Request',
      title: 'Bad Request',
    });
    expect(new HttpError(401, 'x', {}, 'keystone').render('*/*').contentType).toBe('application/json');
  });

  // Glance's positional messages (Owner can't be updated..., Range errors) and webob's 405, as run.
  it('renders the detail form and the 405 page as webob does', () => {
    const d = HttpError.detailed(403, "Owner can't be updated by non admin.");
    expect(d.render('').body).toBe(
      "403 Forbidden\n\nAccess was denied to this resource.\n\n Owner can't be updated by non admin.  ",
    );
    expect(JSON.parse(d.render('application/json').body)).toMatchObject({
      message: "Access was denied to this resource.<br /><br />\nOwner can't be updated by non admin.\n\n",
    });
    const m = HttpError.methodNotAllowed('POST', 'PUT, DELETE');
    expect([m.render(undefined).body, m.headers]).toEqual([
      '405 Method Not Allowed\n\nThe method POST is not allowed for this resource. \n\n ',
      { allow: 'PUT, DELETE' },
    ]);
  });
});
