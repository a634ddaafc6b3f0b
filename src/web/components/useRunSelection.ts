import { useState } from 'react';

/** The runs picked on a list, or "all matching this filter"; a new filter starts afresh. */
export interface RunSelection {
  ids: string[];
  allMatching: boolean;
  any: boolean;
  isSelected(id: string): boolean;
  toggle(id: string): void;
  /** Every run of `ids` on (the header checkbox) or off. */
  setMany(ids: string[], on: boolean): void;
  selectAllMatching(): void;
  clear(): void;
}

interface State {
  key: string;
  ids: ReadonlySet<string>;
  allMatching: boolean;
}

/** `scope` names the filter; `loaded` the runs shown (unticking one leaves "all matching"). */
export function useRunSelection(scope: string, loaded: string[]): RunSelection {
  const [state, setState] = useState<State>({ key: scope, ids: new Set(), allMatching: false });
  const current: State =
    state.key === scope ? state : { key: scope, ids: new Set(), allMatching: false };
  const set = (ids: ReadonlySet<string>, allMatching = false) =>
    setState({ key: scope, ids, allMatching });
  const isSelected = (id: string) => current.allMatching || current.ids.has(id);
  return {
    ids: [...current.ids],
    allMatching: current.allMatching,
    any: current.allMatching || current.ids.size > 0,
    isSelected,
    toggle(id) {
      const next = new Set(current.allMatching ? loaded : current.ids);
      if (isSelected(id)) next.delete(id);
      else next.add(id);
      set(next);
    },
    setMany(ids, on) {
      const next = new Set(current.allMatching ? loaded : current.ids);
      for (const id of ids) {
        if (on) next.add(id);
        else next.delete(id);
      }
      set(next);
    },
    selectAllMatching() {
      set(current.ids, true);
    },
    clear() {
      set(new Set());
    },
  };
}
