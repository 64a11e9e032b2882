"""Merging slivers into the neighbour with which they share the longest edge.

Used for cells (pieces of a lattice clipped to a unit or block) and for
provisional communities (pieces of tiles clipped to a district): one rule, one
implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["SliverMerge", "merge_slivers", "shared_edge_lengths"]

#: Two boundaries closer than this (m) count as one shared edge.
EDGE_TOLERANCE = 1e-4


@dataclass
class SliverMerge:
    """Result of :func:`merge_slivers`.

    ``label[i]`` is the output feature piece ``i`` belongs to (0..n_out-1, in order
    of first piece); ``first[k]`` output ``k``'s lowest-index piece; ``geometry`` the
    merged geometries; ``merged`` how many pieces
    each output absorbed; ``isolated`` marks outputs still below the threshold that
    had no edge-sharing neighbour in their group (an islet, a tiny unit).
    """

    label: np.ndarray
    first: np.ndarray
    geometry: np.ndarray
    merged: np.ndarray
    isolated: np.ndarray

    @property
    def n_merges(self) -> int:
        return int(self.merged.sum())


def shared_edge_lengths(a, b, *, tolerance: float = EDGE_TOLERANCE, shortest: float | None = None):
    """Length of boundary that polygons ``a[k]`` and ``b[k]`` share, pairwise.

    Measured as the length of ``a``'s boundary inside a ``tolerance`` buffer of
    ``b``'s boundary, so edges that coincide only up to floating-point noise still
    count. Pairs meeting at a single vertex give ~0: a length up to ``shortest``
    (default ``4 * tolerance``) counts as 0.

    Examples
    --------
    >>> a = [shapely.box(0, 0, 1, 1), shapely.box(0, 0, 1, 1)]
    >>> b = [shapely.box(1, 0, 2, 1), shapely.box(1, 1, 2, 2)]
    >>> shared_edge_lengths(a, b).round(3).tolist()
    [1.0, 0.0]
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    shortest = 4 * tolerance if shortest is None else shortest
    # Pairs whose bounding boxes meet only in a corner cannot share an edge:
    # skip them before the (costly) buffer and intersection.
    ba, bb = shapely.bounds(a), shapely.bounds(b)
    width = np.minimum(ba[:, 2], bb[:, 2]) - np.maximum(ba[:, 0], bb[:, 0])
    height = np.minimum(ba[:, 3], bb[:, 3]) - np.maximum(ba[:, 1], bb[:, 1])
    can_share = (np.maximum(width, height) > shortest / 2) & (np.minimum(width, height) > -2 * tolerance)
    lengths = np.zeros(len(a))
    near_b = shapely.buffer(shapely.boundary(b[can_share]), tolerance, quad_segs=1)
    inside = shapely.intersection(shapely.boundary(a[can_share]), near_b)
    lengths[can_share] = shapely.length(inside)
    return np.where(lengths > shortest, lengths, 0.0)


def merge_slivers(
    geometry, group, threshold: float, *, max_area: float = np.inf, weight=None, max_weight: float = np.inf,
    also=None,
) -> SliverMerge:
    """Merge every piece smaller than ``threshold`` into a neighbour in its group.

    Pieces are visited from the smallest (ties: lowest index), and each one whose
    current cell is still below ``threshold`` joins the cell of the neighbour, in
    the same ``group``, with which it shares the longest edge (ties: the lowest
    index). The result is deterministic.

    Parameters
    ----------
    geometry : array of Polygons
        Non-overlapping pieces.
    group : array of int
        Pieces merge only within the same group (unit and block).
    threshold : float
        Area below which a piece is a sliver.
    max_area : float, optional
        Never grow a merged piece beyond this area; the next-longest edge is tried.
    weight : array of float, optional
        A second additive size per piece (e.g. the cells it will hold), bounded
        by ``max_weight`` in the same way.
    also : array of bool, optional
        Pieces that merge whatever their area (thin strips between nearly
        coincident lines), in the same way and order.

    Examples
    --------
    >>> pieces = [shapely.box(0, 0, 10, 10), shapely.box(10, 0, 11, 10)]
    >>> m = merge_slivers(pieces, [0, 0], threshold=30)
    >>> m.label.tolist(), m.merged.tolist(), m.geometry[0].area
    ([0, 0], [1], 110.0)
    """
    geometry = np.asarray(geometry, dtype=object)
    group = np.asarray(group)
    n = len(geometry)
    area = shapely.area(geometry)
    parent = np.arange(n)
    cell_area = area.copy()  # valid at roots
    cell_weight = np.zeros(n) if weight is None else np.asarray(weight, dtype="float64").copy()

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    also = np.zeros(n, dtype=bool) if also is None else np.asarray(also, dtype=bool)
    small = np.flatnonzero((area < threshold) | also)
    if small.size:
        # The tree holds only the slivers (few) and every piece is queried against
        # it by envelope: 6x faster than a tree over all 1.6 M Beijing pieces.
        q_other, q_small = shapely.STRtree(geometry[small]).query(geometry)
        src = small[q_small]
        keep = (q_other != src) & (group[q_other] == group[src])
        src, dst = src[keep], q_other[keep]
        keep = shapely.intersects(geometry[src], geometry[dst])
        src, dst = src[keep], dst[keep]
        lengths = shared_edge_lengths(geometry[src], geometry[dst])
        # A crumb, a piece whose whole boundary is shorter than an edge must be,
        # shares no edge by that measure: it joins the neighbour it touches longest.
        # Crumbs are float noise where a boundary grazes a lattice line: Dongcheng's
        # communities through a CSV of GCJ-02 WKT left 11 cells of 1e-12 m².
        crumbs = (shapely.length(geometry[small]) <= 4 * EDGE_TOLERANCE)[np.searchsorted(small, src)]
        if crumbs.any():
            lengths[crumbs] = shared_edge_lengths(geometry[src[crumbs]], geometry[dst[crumbs]], shortest=0.0)
        keep = lengths > 0
        src, dst, lengths = src[keep], dst[keep], lengths[keep]
        order = np.lexsort((dst, -lengths, src))  # per source: longest edge, lowest index
        src, dst, lengths = src[order], dst[order], lengths[order]
        starts = np.searchsorted(src, small, side="left")
        stops = np.searchsorted(src, small, side="right")
        for i in small[np.lexsort((small, area[small]))]:
            root = find(i)
            if cell_area[root] >= threshold and not (also[i] and root == i):
                continue
            k = np.searchsorted(small, i)
            for j in dst[starts[k] : stops[k]]:
                other = find(j)
                if (other != root and cell_area[other] + cell_area[root] <= max_area
                        and cell_weight[other] + cell_weight[root] <= max_weight):
                    # Attach to the neighbour's root, so big cells keep their anchor.
                    parent[root] = other
                    cell_area[other] += cell_area[root]
                    cell_weight[other] += cell_weight[root]
                    break

    roots = parent.astype("int64")
    while True:  # pointer jumping: every piece to its root, vectorised
        up = roots[roots]
        if np.array_equal(up, roots):
            break
        roots = up
    uniq, first, label = np.unique(roots, return_index=True, return_inverse=True)
    # Renumber outputs by first piece, so labels follow input order.
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    label = rank[label]
    counts = np.bincount(label, minlength=len(uniq))
    out = np.empty(len(uniq), dtype=object)
    members = np.argsort(label, kind="stable")
    bounds = np.searchsorted(label[members], np.arange(len(uniq) + 1))
    first_piece = members[bounds[:-1]]
    single = counts == 1
    out[single] = geometry[first_piece[single]]
    for k in np.flatnonzero(~single):
        out[k] = shapely.union_all(geometry[members[bounds[k] : bounds[k + 1]]])
    out_area = area[first_piece]
    out_area[~single] = shapely.area(out[~single])
    isolated = out_area < threshold
    return SliverMerge(label=label, first=first_piece, geometry=out, merged=counts - 1, isolated=isolated)
