import { getOrCreate } from "./maps";

/** A node of a small code-keyed tree (regions, sectors), as loaded from its table. */
export interface TreeRow {
  id: number;
  code: string;
  parentId: number | null;
}

/**
 * An in-memory tree over rows with `id`, `code` and `parentId`: lookups by id
 * and code, children and subtrees in code order, ancestor chains. Regions and
 * sectors are small (thousands of rows at national scale), so every request
 * works on the whole tree rather than asking SQL for parts of it.
 */
export class CodeTree<N extends TreeRow> {
  private readonly ids = new Map<number, N>();
  private readonly codes = new Map<string, N>();
  private readonly kids = new Map<number | null, N[]>();
  private readonly lineage = new Map<number, N[]>();
  /** The chain from the root to `id`, made once per node (a property, so that `lineageOf` allocates nothing). */
  private readonly chainTo = (id: number): N[] => {
    const chain: N[] = [];
    for (let node = this.ids.get(id); node; node = this.byId(node.parentId)) chain.unshift(node);
    return chain;
  };
  private readonly subtrees = new Map<number, number[]>();

  constructor(rows: readonly N[]) {
    const sorted = [...rows].sort((a, b) => compareCodes(a.code, b.code));
    for (const row of sorted) {
      this.ids.set(row.id, row);
      this.codes.set(row.code, row);
    }
    for (const row of sorted) {
      const parentKey = row.parentId !== null && this.ids.has(row.parentId) ? row.parentId : null;
      getOrCreate(this.kids, parentKey, () => []).push(row);
    }
  }

  /** Every node, in code order. */
  all(): N[] {
    return [...this.ids.values()];
  }

  byId(id: number | null | undefined): N | undefined {
    return id === null || id === undefined ? undefined : this.ids.get(id);
  }

  byCode(code: string): N | undefined {
    return this.codes.get(code);
  }

  /** Direct children in code order. */
  children(id: number): N[] {
    return this.kids.get(id) ?? [];
  }

  /** From the root down to the node itself. */
  lineageOf(id: number): N[] {
    return getOrCreate(this.lineage, id, this.chainTo);
  }

  /** The roots (for regions: the provinces) of these nodes' lineages, without repeats. */
  rootsOf(ids: Iterable<number>): number[] {
    const roots = new Set<number>();
    for (const id of ids) {
      const root = this.lineageOf(id)[0];
      if (root) roots.add(root.id);
    }
    return [...roots];
  }

  /** From the root down to the parent. */
  ancestorsOf(id: number): N[] {
    return this.lineageOf(id).slice(0, -1);
  }

  /** Ids of the node and all its descendants. */
  subtreeIds(id: number): number[] {
    let ids = this.subtrees.get(id);
    if (!ids) {
      ids = [id];
      for (const child of this.children(id)) ids.push(...this.subtreeIds(child.id));
      this.subtrees.set(id, ids);
    }
    return ids;
  }

  size(): number {
    return this.ids.size;
  }
}

/** Codes sort as plain strings (GB/T 2260 codes are fixed-width digits). */
export function compareCodes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
