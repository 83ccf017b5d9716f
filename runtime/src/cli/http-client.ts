/** Talks to the runtime's admin and ingress APIs; turns failures into CliError with an exit code. */
export const EXIT_OK = 0;
/** The runtime answered with an error. */
export const EXIT_API_ERROR = 1;
export const EXIT_USAGE = 2;
/** The runtime could not be reached. */
export const EXIT_UNREACHABLE = 3;

export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function request(
  baseUrl: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  let res: Response;
  try {
    res = await fetch(baseUrl + path, {
      method,
      headers: body !== undefined ? { "content-type": "application/json", ...headers } : headers,
      ...(body !== undefined && { body }),
    });
  } catch (e) {
    throw new CliError(
      `cannot reach the runtime at ${baseUrl} (${(e as Error).cause ? String((e as { cause: Error }).cause.message) : (e as Error).message}); is it running? start it with 'npm start'`,
      EXIT_UNREACHABLE,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status >= 400) {
    const b = json as { code?: string | number; capstanCode?: string; message?: string } | undefined;
    throw new CliError(
      `${res.status} ${b?.capstanCode ?? b?.code ?? ""}: ${b?.message ?? text}`.trim(),
      EXIT_API_ERROR,
      json ?? text,
    );
  }
  return { status: res.status, headers: res.headers, text, json };
}
