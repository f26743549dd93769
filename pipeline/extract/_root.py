"""The content root: the element that holds the article, on layouts never seen before.

Owns: prose weights (each block's own text, outside its block children, discounted by
links) and `choose_root`. Why our own root finder rather than trafilatura's: the stages
after this one need the elements themselves (headings, list items, <sup> markers, FAQ
markup, links), and trafilatura returns text or its own XML without them. The finder is
the readability idea (score paragraphs, favour their parents) plus widening for
block-based builders: climb while the parent adds a real share of article text, while the
added blocks are siblings of the same kind, or while the parent is the article's own
container; wrappers that add next to nothing are passed through.
Must not: drop anything (that is `_chrome`) or classify sentences.
"""
from __future__ import annotations

from ._chrome import _is_article_container
from ._html import BLOCK_TAGS, HEADINGS, _space_len

# --- prose weights --------------------------------------------------------------------------

def _is_inline_only(el) -> bool:
    for child in el:
        if isinstance(child.tag, str) and child.tag in BLOCK_TAGS:
            return False
    return True


def _is_block(el) -> bool:
    tag = el.tag
    if tag in BLOCK_TAGS:
        return True
    # a <span> or <font> wrapping block elements acts as a container (seen in old CMS output)
    return tag in _INLINE_CONTAINERS and not _is_inline_only(el)


_INLINE_CONTAINERS = {"span", "font", "a", "b", "strong", "em", "i", "small"}
_NOT_WEIGHED = HEADINGS | {"html", "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "hr",
                           "hgroup", "picture", "figure"}



def loose_text(el) -> tuple[str, int]:
    """The text of `el` that is not inside a block child (a <p> holds all its text; a <div>
    holding text between <br>s and some <p>s holds the text between them), and how much
    of it is link text."""
    parts = [el.text or ""]
    linked = 0
    for child in el:
        if isinstance(child.tag, str) and not _is_block(child):
            t = child.text_content()
            parts.append(t)
            if child.tag == "a":
                linked += _space_len(t)
            else:
                for a in child.iter("a"):
                    linked += _space_len(a.text_content())
        parts.append(child.tail or "")
    return "".join(parts), linked


def paragraph_weights(root) -> dict:
    """block element -> weight of its own readable prose (characters, discounted by links).

    Each block counts the text that is not inside a block child: all of a <p>, the text of
    a <div> between its <br>s and child blocks, a list item's text without its nested list.
    Link-heavy text (menus, tag clouds, post lists) weighs nothing and is left out.
    """
    direct: dict = {}
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str) or tag in _NOT_WEIGHED:
            continue
        if tag not in BLOCK_TAGS and not (tag in _INLINE_CONTAINERS and not _is_inline_only(el)):
            continue
        text, linked = loose_text(el)
        n = _space_len(text)
        if n < 25:
            continue
        density = min(1.0, linked / n)
        if density > 0.5:
            continue
        # commas mark sentences of prose rather than labels and buttons
        direct[el] = n * (1.0 - density) + 10 * text.count(",")
    return direct


def subtree_weights(root, direct: dict, dropped: set | frozenset = frozenset()) -> dict:
    """element -> total weight of the paragraphs beneath it, leaving out those inside an
    element marked for dropping."""
    weights: dict = {}
    for el in root.iter():
        w = direct.get(el)
        if w is None:
            continue
        chain = []
        node = el
        while node is not None:
            if node in dropped:
                chain = None
                break
            chain.append(node)
            node = node.getparent()
        if chain:
            for node in chain:
                weights[node] = weights.get(node, 0.0) + w
    return weights



# --- the content root -----------------------------------------------------------------------

_SKIP_SHARE = 0.15


def choose_root(body, direct: dict, dropped: set | frozenset = frozenset()):
    """The element holding the article: best-scored paragraph parent, widened to take in
    sibling blocks that add a real share of prose."""
    weights = subtree_weights(body, direct, dropped)
    scores: dict = {}
    for el, w in direct.items():
        if el not in weights:
            continue  # pruned
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + w
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + w / 2
    if not scores:
        return body
    seed = max(scores, key=scores.get)
    committed = seed
    below = seed
    node = seed.getparent()
    while node is not None:
        extra = weights.get(node, 0.0) - weights.get(committed, 0.0)
        # Siblings of the same kind as the block on our path (the article's other sections,
        # a builder's next text block) belong to the article even when each is small.
        key = (below.tag, below.get("class"))
        same_kind = sum(weights.get(sib, 0.0) for sib in node
                        if sib is not below and isinstance(sib.tag, str) and (sib.tag, sib.get("class")) == key)
        if extra >= 0.15 * weights.get(committed, 1.0) or (extra > 0.5 and same_kind >= 0.6 * extra):
            committed = node
        elif extra > 0.5 and _is_article_container(node) and weights.get(node, 0.0) <= 1.5 * weights.get(committed, 1.0):
            # the article's own container (its lead, a subtitle, an intro box before the
            # body): taken whole, its chrome is pruned anyway
            committed = node
        elif extra > _SKIP_SHARE * weights.get(committed, 1.0):
            break
        elif extra > 0.5:
            # a wrapper adding little (a lead paragraph, a date line): taken, and its chrome
            # pruned; the tail cut in `_article` drops what trails the last paragraph
            committed = node
        if node is body:
            break
        below = node
        node = node.getparent()
    return committed


