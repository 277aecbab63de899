import * as z from '../internal/zod.js';
import { ID, nameSchema } from '../catalog/model.js';
import { MalformedMessageError, WIRE_ERROR_CODES } from './errors.js';

/** Protocol version announced in `ready`. */
export const PROTOCOL_VERSION = 1;

/**
 * The gateway's default window (announced in `ready`): chunks a download reads ahead, and an
 * upload's credit in chunks. The client SDK's own default download credit is twice this.
 */
export const DEFAULT_WINDOW = 4;

const stream = z.number().check(z.int(), z.gte(1), z.lte(0xffffffff));
const fileId = z.string().check(z.regex(ID, 'must be 16 to 64 characters of [0-9a-z]'));
const sha256 = z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits'));
const size = z.number().check(z.int(), z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));
const count = z.number().check(z.int(), z.gte(1), z.lte(1_000_000));

export const rangeSchema = z
  .strictObject({ start: size, end: z.optional(size) })
  .check(z.refine((r) => r.end === undefined || r.end >= r.start, { message: 'must be ≥ range.start', path: ['end'] }));

// ── client → server ─────────────────────────────────────────────────────────
const auth = z.strictObject({ type: z.literal('auth'), token: z.string().check(z.maxLength(4096)) });
const upload = z
  .strictObject({
    type: z.literal('upload'),
    stream,
    name: z.optional(nameSchema),
    uploadId: z.optional(fileId),
    size: z.optional(size),
    sha256: z.optional(sha256),
  })
  .check(
    z.refine((m) => m.name !== undefined || m.uploadId !== undefined, { message: 'is required unless uploadId is given', path: ['name'] }),
  );
const end = z.strictObject({ type: z.literal('end'), stream });
const download = z.strictObject({
  type: z.literal('download'),
  stream,
  id: fileId,
  range: z.optional(rangeSchema),
  credit: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1_000_000))),
  /** Send type 3 frames: each chunk with its SHA-256, for the client to verify before delivering it. */
  digests: z.optional(z.boolean()),
});
const credit = z.strictObject({ type: z.literal('credit'), stream, chunks: count });
/** `discard`: an upload the client gives up for good (a person cancelled it): its session goes too. */
const cancel = z.strictObject({ type: z.literal('cancel'), stream, discard: z.optional(z.boolean()) });
const list = z.strictObject({ type: z.literal('list'), stream });
const stat = z.strictObject({ type: z.literal('stat'), stream, id: fileId });
const remove = z.strictObject({ type: z.literal('remove'), stream, id: fileId });
const status = z.strictObject({ type: z.literal('status'), stream, uploadId: fileId });

const CLIENT = { auth, upload, end, download, credit, cancel, list, stat, remove, status } as const;
export type ClientMessage = { [K in keyof typeof CLIENT]: z.infer<(typeof CLIENT)[K]> }[keyof typeof CLIENT];
export type ClientMessageOf<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

// ── server → client ─────────────────────────────────────────────────────────
export const fileInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  size,
  sha256: z.string(),
  chunkSize: z.number().check(z.int(), z.positive()),
  chunkCount: z.number().check(z.int(), z.gte(0)),
  created: z.string(),
});
const ready = z.object({
  type: z.literal('ready'),
  version: z.number().check(z.int()),
  maxFrameBytes: z.number().check(z.int(), z.positive()),
  window: z.number().check(z.int(), z.positive()),
});
const started = z.object({ type: z.literal('started'), stream, uploadId: z.string(), offset: size, credit: size });
const grant = z.object({ type: z.literal('credit'), stream, bytes: size });
const progress = z.object({ type: z.literal('progress'), stream, uploadId: z.string(), bytes: size, chunks: size });
const committed = z.object({ type: z.literal('committed'), stream, file: fileInfoSchema });
const header = z.object({
  type: z.literal('header'),
  stream,
  file: fileInfoSchema,
  range: z.nullable(z.object({ start: size, end: size })),
  length: size,
  chunks: size,
});
const done = z.object({ type: z.literal('end'), stream, bytes: size });
const files = z.object({ type: z.literal('files'), stream, files: z.array(fileInfoSchema) });
const file = z.object({ type: z.literal('file'), stream, file: fileInfoSchema });
const uploadStatus = z.object({
  type: z.literal('status'),
  stream,
  uploadId: z.string(),
  name: z.string(),
  offset: size,
  expires: z.string(),
});
const cancelled = z.object({ type: z.literal('cancelled'), stream });
const error = z.object({ type: z.literal('error'), stream: z.nullable(stream), code: z.enum(WIRE_ERROR_CODES), message: z.string() });

const SERVER = {
  ready,
  started,
  credit: grant,
  progress,
  committed,
  header,
  end: done,
  files,
  file,
  status: uploadStatus,
  cancelled,
  error,
} as const;
export type ServerMessage = { [K in keyof typeof SERVER]: z.infer<(typeof SERVER)[K]> }[keyof typeof SERVER];
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** A rejected message, with the stream it named (when that much could be read) for the reply. */
export class MessageRejection extends MalformedMessageError {
  constructor(
    readonly stream: number | null,
    field: string,
    detail: string,
  ) {
    super(field, detail);
  }
}

/** Parses and validates one client control message (a text frame). Throws MessageRejection. */
export function parseClientMessage(text: string): ClientMessage {
  return parseWith(CLIENT, text) as ClientMessage;
}

/** Parses and validates one server control message (the client validates what it receives). */
export function parseServerMessage(text: string): ServerMessage {
  return parseWith(SERVER, text) as ServerMessage;
}

function parseWith(schemas: Record<string, z.ZodMiniType>, text: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MessageRejection(null, 'message', 'text frame is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new MessageRejection(null, 'message', 'must be a JSON object');
  }
  const obj = json as Record<string, unknown>;
  const streamId = stream.safeParse(obj.stream).success ? (obj.stream as number) : null;
  const type = obj.type;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    const known = Object.keys(schemas).join(', ');
    // Never JSON.stringify a client value: `"type": [[[…]]]` nested deep enough to fit in one
    // frame overflows the stack, and the client got `internal` instead of a bad_request.
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : Array.isArray(type) ? 'array' : typeof type;
    throw new MessageRejection(streamId, 'type', `unknown message type ${shown} (expected one of ${known})`);
  }
  const r = schemas[type]!.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  // Field names come from the client: echo at most 100 characters of them.
  const field = (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || 'message').slice(0, 100);
  const detail = issue.code === 'unrecognized_keys' ? `unknown field in a ${type} message` : issue.message;
  throw new MessageRejection(streamId, field, detail);
}
