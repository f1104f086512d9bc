/** Metadata fields as reactive state, for the forms and their component tests. */
import { emptyFields, type MetadataFields } from './metadata-validation';

export function createFields(initial: Partial<MetadataFields> = {}): MetadataFields {
  const fields = $state<MetadataFields>({ ...emptyFields(), ...initial });
  return fields;
}
