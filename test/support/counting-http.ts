import { HttpClient, type HttpRequest, type HttpResponse } from '../../src/main/core/openstack/http-client';

/** The real HttpClient, recording what it sends (and able to spoil a request to provoke a real error). */
export class CountingHttp extends HttpClient {
  sent: HttpRequest[] = [];
  /** Called on each request before it goes out; may return a changed request. */
  tamper: ((req: HttpRequest, index: number) => HttpRequest) | undefined;

  override async send(req: HttpRequest): Promise<HttpResponse> {
    const out = this.tamper ? this.tamper(req, this.sent.length) : req;
    this.sent.push(out);
    return super.send(out);
  }

  authRequests(): number {
    return this.sent.filter((r) => r.method === 'POST' && r.url.endsWith('/auth/tokens')).length;
  }
}
