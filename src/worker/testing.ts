// Shared by the session tests: the built-in models' real files, read from public/models as the
// page would fetch them.
import { readFileSync } from 'node:fs';
import type { ModelFileSource } from './session';

/** public/models/, where the built-in models' folders are. */
export const publicModels = new URL('../../public/models/', import.meta.url);

/** A session's model file source over public/models. */
export const publicModelSource: ModelFileSource = async (id: string, file: string) => new Uint8Array(readFileSync(new URL(`${id}/${file}`, publicModels)));
