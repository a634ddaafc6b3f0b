/**
 * The list's API query as the bulk action's filter: `input.<path>` parameters become its `input`
 * object and "me" the caller's id (the list resolves it; the bulk action stores an id).
 */
export function bulkFilterOf(
  query: Record<string, string | undefined>,
  bucket: string,
  userId: string,
): Record<string, unknown> {
  const filter: Record<string, unknown> = { bucket };
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!value) continue;
    if (key.startsWith('input.')) input[key.slice('input.'.length)] = value;
    else filter[key] = key === 'initiator' && value === 'me' ? userId : value;
  }
  if (Object.keys(input).length) filter.input = input;
  return filter;
}
