// req:form(): application/x-www-form-urlencoded and multipart/form-data bodies parsed by busboy
// (the body is already in memory and capped by --max-body; the per-part caps here are the
// handler's own, smaller ones). Failures carry the HTTP status the request should get.
import type busboy from 'busboy';

// Loaded on the first form: most processes never parse one.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadBusboy = () => require('busboy') as typeof busboy;

export interface FormFile {
  field: string;
  filename: string;
  content_type: string;
  data: Buffer;
}

export interface ParsedForm {
  /** name -> value, or a list of values when the name repeats (as req.query). */
  fields: Record<string, string | string[]>;
  /** name -> the first file sent under that name. */
  files: Record<string, FormFile>;
  /** Every file in the order sent. */
  file_list: FormFile[];
}

export interface FormLimits {
  /** Largest single field value in bytes. */
  fieldBytes: number;
  /** Largest single file in bytes. */
  fileBytes: number;
  /** Most parts (fields + files). */
  parts: number;
}

export class FormError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data)\s*(;|$)/i;

export function parseForm(contentType: string | undefined, body: Buffer, limits: FormLimits): Promise<ParsedForm> {
  if (!contentType || !FORM_TYPES.test(contentType)) {
    return Promise.reject(new FormError(415, `expected a form body (application/x-www-form-urlencoded or multipart/form-data), got ${contentType ? `"${contentType}"` : 'no content-type'}`));
  }
  let parser: busboy.Busboy;
  try {
    parser = loadBusboy()({
      headers: { 'content-type': contentType },
      defParamCharset: 'utf8',
      limits: { fieldSize: limits.fieldBytes, fileSize: limits.fileBytes, parts: limits.parts, fieldNameSize: 200 },
    });
  } catch (err) {
    // e.g. "Multipart: Boundary not found"
    return Promise.reject(new FormError(400, `invalid form body: ${(err as Error).message}`));
  }
  return new Promise<ParsedForm>((resolve, reject) => {
    const form: ParsedForm = { fields: {}, files: {}, file_list: [] };
    let failed = false;
    const fail = (status: number, message: string) => {
      if (failed) return;
      failed = true;
      reject(new FormError(status, message));
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(413, `form field "${name}" is larger than ${limits.fieldBytes} bytes`);
      if (info.nameTruncated) return fail(400, 'a form field name is longer than 200 bytes');
      const old = form.fields[name];
      if (old === undefined) form.fields[name] = value;
      else if (Array.isArray(old)) old.push(value);
      else form.fields[name] = [old, value];
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('limit', () => fail(413, `uploaded file "${info.filename ?? name}" is larger than ${limits.fileBytes} bytes`));
      stream.on('end', () => {
        const file: FormFile = { field: name, filename: info.filename ?? '', content_type: info.mimeType, data: Buffer.concat(chunks) };
        form.file_list.push(file);
        form.files[name] ??= file;
      });
    });
    parser.on('partsLimit', () => fail(413, `form has more than ${limits.parts} parts`));
    parser.on('error', (err: Error) => fail(400, `invalid form body: ${err.message}`));
    parser.on('close', () => {
      if (!failed) resolve(form);
    });
    parser.end(body);
  });
}
