"""How ``minigrad.viz.draw`` lays a graph out and draws it with matplotlib (the plot extra).

Each item goes in a column: its longest distance from an item with no inputs,
so every arrow points right. Within a column, items are ordered by the mean
height of their inputs, which keeps most arrows short and uncrossed. Sizes
are in inches, from the number of characters and lines in each box.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

from .files import save_figure  # noqa: E402

FONT = 7  # points
CHAR, LINE = FONT * 0.62 / 72, FONT * 1.35 / 72  # inches per character and per line
PAD, GAP_X, GAP_Y = 0.12, 0.45, 0.25  # inside a box, between columns, between boxes
STYLE = {
    "tensor": dict(boxstyle="square,pad=0.35", facecolor="#eef4fb", edgecolor="#3b6ea5"),
    "op": dict(boxstyle="round,pad=0.35", facecolor="#fdf1dc", edgecolor="#b07a1e"),
    "cut": dict(boxstyle="square,pad=0.35", facecolor="#f2f2f2", edgecolor="#777777"),
}


def columns(picture):
    """The column of every item: 0 for an item with no inputs, else 1 + its inputs' largest."""
    inputs = {key: [] for key in picture.items}
    for a, b in picture.arrows:
        inputs[b].append(a)
    column = {}
    for start in picture.items:
        _place(start, inputs, column)
    for key in picture.items:  # an item with no inputs sits just left of its first reader
        if not inputs[key]:
            readers = [column[b] for a, b in picture.arrows if a == key]
            column[key] = min(readers, default=1) - 1
    return column, inputs


def _place(start, inputs, column):
    """Give ``start`` and every item it depends on a column, depth first, without recursion (a
    chain may be long)."""
    stack = [start]
    while stack:
        key = stack[-1]
        waiting = [k for k in inputs[key] if k not in column]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        column[key] = 1 + max((column[k] for k in inputs[key]), default=-1)


def layout(picture):
    """Each item's box: (centre x, centre y, width, height), in inches."""
    column, inputs = columns(picture)
    size = {
        key: (max(map(len, lines)) * CHAR + 2 * PAD, len(lines) * LINE + 2 * PAD)
        for key, (_, lines) in picture.items.items()
    }
    boxes, left = {}, 0.0
    for col in range(max(column.values(), default=-1) + 1):
        keys = [k for k in picture.items if column[k] == col]
        keys.sort(key=lambda k: _mean([boxes[i][1] for i in inputs[k]]))
        width = max(size[k][0] for k in keys)
        height = sum(size[k][1] for k in keys) + GAP_Y * (len(keys) - 1)
        top = height / 2
        for key in keys:
            w, h = size[key]
            boxes[key] = (left + width / 2, top - h / 2, w, h)
            top -= h + GAP_Y
        left += width + GAP_X
    return boxes


def _mean(values):
    return sum(values) / len(values) if values else 0.0


def render(picture, path):
    """Draw ``picture`` to ``path``; the suffix (.png or .svg) chooses the format."""
    boxes = layout(picture)
    xs = [x + s * w / 2 for x, _, w, _ in boxes.values() for s in (-1, 1)]
    ys = [y + s * h / 2 for _, y, _, h in boxes.values() for s in (-1, 1)]
    width, height = max(xs) - min(xs) + 0.4, max(ys) - min(ys) + 0.4
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(min(xs) - 0.2, max(xs) + 0.2)
    ax.set_ylim(min(ys) - 0.2, max(ys) + 0.2)
    ax.axis("off")
    for a, b in dict.fromkeys(picture.arrows):
        (xa, ya, wa, _), (xb, yb, wb, _) = boxes[a], boxes[b]
        ax.annotate("", xy=(xb - wb / 2, yb), xytext=(xa + wa / 2, ya),
                    arrowprops=dict(arrowstyle="->", color="#555555", lw=0.8))  # fmt: skip
    for key, (kind, lines) in picture.items.items():
        x, y, _, _ = boxes[key]
        ax.text(x, y, "\n".join(lines), ha="center", va="center", multialignment="left",
                fontsize=FONT, family="monospace", bbox=STYLE[kind])  # fmt: skip
    save_figure(fig, path, dpi=120)
    plt.close(fig)
