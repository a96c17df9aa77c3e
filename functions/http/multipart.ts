import { Readable } from 'node:stream';

import type { HttpRequest } from '@azure/functions';
import busboy from 'busboy';

import { errors } from '../../shared/domain/errors';

/** The manifest is JSON text; golden records make it larger than a usual form field, not unbounded. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Which of two manifests would count is up to the order of the parts: neither does. */
const MORE_THAN_ONE_MANIFEST = "more than one 'manifest' part";

export interface RegistrationUpload<T> {
  /** The `manifest` part's text (a form field or a file part). */
  manifest: string;
  /** What `onArtifact` made of the `artifact` part. */
  artifact: T;
}

/**
 * Reads a `multipart/form-data` registration as it streams in: the `manifest` part as text and
 * the `artifact` part handed to `onArtifact` as a stream (staged to storage while hashed, never
 * held whole). Parts may come in either order. A missing part, an unexpected or repeated one, or a body that
 * breaks off is VALIDATION_ERROR; `discard` undoes a staged artifact when the upload fails after it.
 * When `onArtifact` fails (PAYLOAD_TOO_LARGE past the limit) the rest of the body is not read: the
 * upload ends at once with that error.
 */
export async function readRegistrationUpload<T>(
  request: HttpRequest,
  onArtifact: (stream: Readable) => Promise<T>,
  discard: (artifact: T) => Promise<void>,
): Promise<RegistrationUpload<T>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\b/i.test(type)) {
    throw errors.unsupportedMediaType(`registration is multipart/form-data with a 'manifest' and an 'artifact' part, not '${type || 'unspecified'}'`);
  }
  if (!request.body) throw errors.validation('the request has no body');
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: { 'content-type': type }, limits: { files: 2, fields: 4, parts: 6, fieldSize: MAX_MANIFEST_BYTES } });
  } catch (e) {
    throw errors.validation(`the multipart body cannot be read: ${(e as Error).message}`);
  }

  let manifest: string | undefined;
  let manifestParts = 0;
  let manifestFile: Promise<void> | undefined;
  let artifact: Promise<T> | undefined;
  const problems: string[] = [];
  const body = Readable.fromWeb(request.body);
  const reading = new Promise<void>((resolve, reject) => {
    parser.on('field', (name, value, info) => {
      if (name !== 'manifest') problems.push(`unexpected form field '${name}'`);
      else if ((manifestParts += 1) > 1) problems.push(MORE_THAN_ONE_MANIFEST);
      else if (info.valueTruncated) problems.push(`the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
      else manifest = value;
    });
    parser.on('file', (name, stream) => {
      // The part's stream is ours: a second error on it must not go unhandled.
      stream.on('error', () => undefined);
      if (name === 'artifact' && artifact === undefined) {
        artifact = onArtifact(stream);
        // A refused artifact (over the size limit, storage failing) ends the upload at once with its
        // error: its part would otherwise stay unread and hold up the parser and the request for ever.
        // The rest of the body is left unread (paused: a client that keeps sending is held back),
        // not destroyed: with HTTP streams the body is the connection the answer goes back on, and
        // destroying it could cut the 413 off; the server drops the rest once the answer is sent.
        artifact.catch((error: unknown) => {
          reject(error instanceof Error ? error : new Error(String(error)));
          body.unpipe(parser);
          parser.destroy();
          body.pause();
        });
      } else if (name === 'manifest' && (manifestParts += 1) === 1) {
        manifestFile = readText(stream, MAX_MANIFEST_BYTES).then(
          (text) => {
            manifest = text;
          },
          (e: Error) => {
            problems.push(e.message);
          },
        );
      } else {
        problems.push(name === 'manifest' ? MORE_THAN_ONE_MANIFEST : `unexpected file part '${name}'`);
        stream.resume();
      }
    });
    parser.on('partsLimit', () => problems.push('too many parts'));
    parser.on('filesLimit', () => problems.push('too many file parts'));
    parser.on('fieldsLimit', () => problems.push('too many form fields'));
    parser.once('error', (e: Error) => reject(errors.validation(`the multipart body is malformed or incomplete: ${e.message}`)));
    parser.once('close', resolve);
  });
  body.once('error', (e) => parser.destroy(e));
  body.pipe(parser);

  let staged: T | undefined;
  try {
    await reading;
    staged = artifact === undefined ? undefined : await artifact;
    await manifestFile;
    if (manifest === undefined) problems.push("the 'manifest' part is missing");
    if (staged === undefined) problems.push("the 'artifact' part (the ONNX file) is missing");
    if (problems.length > 0) throw errors.validation(`the registration upload is not usable: ${problems.join('; ')}`, { problems });
    return { manifest: manifest!, artifact: staged! };
  } catch (error) {
    if (staged !== undefined) await discard(staged).catch(() => undefined);
    else if (artifact !== undefined) await artifact.then(discard, () => undefined).catch(() => undefined);
    throw error;
  }
}

async function readText(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.resume();
      throw new Error(`the manifest is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
