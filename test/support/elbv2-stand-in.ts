import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the Elastic Load Balancing v2 Query API (AWS is unreachable here), answering
 * DescribeTargetHealth as AWS documents it, including what it refuses:
 * - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
 *   (form-encoded POST, `Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=…`; XML answer with
 *   `TargetHealthDescriptions/member`; `TargetGroupNotFound` 400, `HealthUnavailable` 500)
 * - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html (`MissingAuthenticationToken`
 *   403, `SignatureDoesNotMatch` 403, `InvalidAction` 400, `MissingParameter` 400)
 * - https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-signed-request.html (Signature V4:
 *   the stand-in recomputes the signature with the one key pair it knows and refuses any other)
 */

export interface StandInTarget {
  Id: string;
  Port?: number;
  HealthCheckPort?: string;
  State: string;
  Reason?: string;
  Description?: string;
}

export const STAND_IN_KEY = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

const NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function errorXml(code: string, message: string, type = 'Sender'): string {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>8d1b0c5e-0000-4000-8000-000000000000</RequestId></ErrorResponse>`;
}

function memberXml(t: StandInTarget): string {
  const opt = (tag: string, v: string | number | undefined) =>
    v === undefined ? '' : `<${tag}>${esc(String(v))}</${tag}>`;
  return `<member>${opt('HealthCheckPort', t.HealthCheckPort)}<TargetHealth>${opt('State', t.State)}${opt('Reason', t.Reason)}${opt('Description', t.Description)}</TargetHealth><Target>${opt('Port', t.Port)}${opt('Id', t.Id)}</Target></member>`;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');

/** Why the request's Signature V4 does not verify with STAND_IN_KEY, or undefined when it does. */
function signatureProblem(req: IncomingMessage, body: string): { code: string; message: string } | undefined {
  const auth = req.headers.authorization;
  if (!auth)
    return { code: 'MissingAuthenticationToken', message: 'Request is missing Authentication Token' };
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m)
    return { code: 'IncompleteSignature', message: 'Authorization header is not a Signature V4 header' };
  const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== STAND_IN_KEY.accessKeyId)
    return {
      code: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
    };
  if (service !== 'elasticloadbalancing')
    return {
      code: 'SignatureDoesNotMatch',
      message: `Credential should be scoped to correct service: 'elasticloadbalancing'.`,
    };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const canonicalHeaders = signedHeaders!
    .split(';')
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const [path, query = ''] = (req.url ?? '/').split('?');
  const canonical = [req.method, path, query, canonicalHeaders, signedHeaders, sha256(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${STAND_IN_KEY.secretAccessKey}`, date!);
  for (const part of [region!, service!, 'aws4_request']) key = hmac(key, part);
  if (createHmac('sha256', key).update(toSign).digest('hex') !== signature)
    return {
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  return undefined;
}

/** Starts the stand-in on 127.0.0.1 with these target groups (ARN → targets); `unavailable` ARNs answer HealthUnavailable. */
export async function startElbv2StandIn(
  groups: Record<string, StandInTarget[]>,
  unavailable: string[] = [],
): Promise<{ endpoint: string; requests: URLSearchParams[]; close: () => Promise<void> }> {
  const requests: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const send = (status: number, xml: string) =>
        res
          .writeHead(status, { 'content-type': 'text/xml' })
          .end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
      const bad = signatureProblem(req, body);
      if (bad) return send(403, errorXml(bad.code, bad.message));
      const p = new URLSearchParams(body);
      requests.push(p);
      if (p.get('Action') !== 'DescribeTargetHealth' || p.get('Version') !== '2015-12-01')
        return send(
          400,
          errorXml(
            'InvalidAction',
            `Could not find operation ${p.get('Action')} for version ${p.get('Version')}`,
          ),
        );
      const arn = p.get('TargetGroupArn');
      if (!arn)
        return send(
          400,
          errorXml('MissingParameter', 'The request must contain the parameter TargetGroupArn'),
        );
      if (unavailable.includes(arn))
        return send(
          500,
          errorXml(
            'HealthUnavailable',
            'The health of the specified targets could not be retrieved due to an internal error.',
            'Receiver',
          ),
        );
      const targets = groups[arn];
      if (!targets) return send(400, errorXml('TargetGroupNotFound', `Target groups '${arn}' not found`));
      return send(
        200,
        `<DescribeTargetHealthResponse xmlns="${NS}"><DescribeTargetHealthResult><TargetHealthDescriptions>${targets.map(memberXml).join('')}</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>c534f810-f389-11e5-9192-3fff33344cfa</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`,
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}
