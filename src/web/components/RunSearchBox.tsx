import { Button, CloseButton, Group, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { parseSearch } from '../api/search-syntax';

/**
 * The list's search box (DESIGN §18). The text lives in the URL (`search=`), so a search is a
 * link; Enter applies it, and a whole run id opens that run. `error` is the server's refusal.
 */
export function RunSearchBox({
  value,
  error,
  onSearch,
}: {
  value: string | undefined;
  error: string | undefined;
  onSearch: (text: string | undefined) => void;
}) {
  const navigate = useNavigate();
  const [draft, setDraft] = useState(value ?? '');
  // Back, forward and links (a tag badge) change the URL under the field.
  useEffect(() => setDraft(value ?? ''), [value]);
  const apply = (text: string) => {
    const runId = parseSearch(text).runId;
    if (runId) navigate(`/admin/operations/${runId}`);
    else onSearch(text.trim() || undefined);
  };
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        apply(draft);
      }}
    >
      <TextInput
        label="Search runs"
        description="tag:nightly · input.policyId=p-17 · failure:graph.throttled · a run id or its first 8+ characters"
        placeholder="tag:nightly input.policyId=p-17"
        maw={720}
        value={draft}
        error={error}
        data-testid="run-search"
        onChange={(event) => setDraft(event.currentTarget.value)}
        rightSectionWidth={draft ? 112 : 80}
        rightSectionPointerEvents="all"
        rightSection={
          <Group gap={4} wrap="nowrap">
            {draft && (
              <CloseButton
                aria-label="Clear search"
                onClick={() => {
                  setDraft('');
                  if (value) onSearch(undefined);
                }}
              />
            )}
            <Button type="submit" size="compact-sm" variant="default">
              Search
            </Button>
          </Group>
        }
      />
    </form>
  );
}
