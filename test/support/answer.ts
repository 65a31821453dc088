/** What the client sees of one HTTP answer. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: any;
  /** The body's bytes. */
  bytes: number;
}

/** Reads a whole answer: status, headers, text, JSON body when it is JSON, size in bytes. */
export async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body, bytes: Buffer.byteLength(text) };
}

/** Fetches `url` and reads the whole answer. */
export function fetchAnswer(url: string, init?: RequestInit): Promise<Answer> {
  return fetch(url, init).then(readAnswer);
}
