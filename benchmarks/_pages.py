"""Deterministic, chrome-heavy article pages for the extraction benchmarks and tests.

Four layouts in the manner of the partner sites (a WordPress/Astra theme with Yoast, a
Squarespace 7.1 page, an Elementor page, a Bootstrap custom CMS), each with menus, banners,
cookie notices, sidebars, newsletter forms, share bars, "call us" boxes, inline CSS/JS, and
an article with headings, labelled list items, footnotes and sometimes an FAQ. All text is
generated here from a small vocabulary written for this file; no partner text is used.

    from benchmarks._pages import make_pages
    pages = make_pages(200, seed=7)   # [(url, html_bytes, facts)], 50-150 KB each
"""
from __future__ import annotations

import json
import random
from html import escape

_SUBJECTS = ["Regular sleep", "A balanced breakfast", "Daily walking", "Stretching before exercise",
             "Hydration", "Screen time before bed", "Group support", "A consistent routine", "Journaling",
             "Outdoor light in the morning", "Caffeine late in the day", "Mindful breathing", "Social contact",
             "Strength training", "A short afternoon nap", "Cooking at home", "Reading for pleasure"]
_VERBS = ["improves", "can reduce", "is linked to", "often supports", "may increase", "helps regulate",
          "tends to lower", "can disrupt", "strengthens", "is associated with", "gradually changes"]
_OBJECTS = ["mood over several weeks", "the quality of deep sleep", "resting heart rate", "focus at work",
            "stress hormones in the evening", "appetite the next day", "the sense of being rested",
            "recovery after illness", "memory for new skills", "energy in the afternoon",
            "the body's internal clock", "muscle soreness after effort", "motivation to keep going"]
_TAILS = ["according to several small studies", "for most adults", "in people over fifty",
          "when kept up for a month", "although results vary", "especially in winter",
          "even at modest levels", "compared with irregular habits", "in the first weeks"]
_TOPICS = ["Sleep", "Movement", "Food", "Stress", "Habits", "Rest", "Energy", "Routine", "Focus"]
_HEADS = ["Why {t} Matters", "What Happens When {t} Changes", "{t} and the Body", "Common Myths About {t}",
          "Small Steps Toward Better {t}", "How {t} Affects the Mind", "When to Ask for Help With {t}"]
_NAMES = ["Bright Harbor Wellness", "Cedar Path Health", "Northfield Care Group", "Riverside Balance Center"]


def _sentence(rng: random.Random) -> str:
    s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    r = rng.random()
    if r < 0.4:
        s += f", {rng.choice(_TAILS)}"
    elif r < 0.5:
        s += f", e.g. by {rng.randint(2, 9)}.{rng.randint(1, 9)} points on a {rng.choice([10, 20, 100])}-point scale"
    elif r < 0.6:
        s += f" (Dr. {rng.choice(['Lane', 'Ortiz', 'Berg', 'Nakamura'])} calls this a {rng.choice(['steady', 'slow', 'modest'])} effect)"
    return s + "."


def _para(rng: random.Random, n: int | None = None) -> str:
    return " ".join(_sentence(rng) for _ in range(n or rng.randint(2, 6)))


def _blob(rng: random.Random, kind: str, size: int) -> str:
    """Inline CSS or JS of about `size` bytes: the weight real pages carry in <head>."""
    out, n = [], 0
    while n < size:
        if kind == "css":
            line = (f".c{rng.randint(0, 99999)}-{rng.choice(['wrap', 'inner', 'item', 'title'])}"
                    f"{{margin:{rng.randint(0, 40)}px;padding:{rng.randint(0, 30)}px;color:#{rng.randint(0, 0xffffff):06x}}}\n")
        else:
            line = (f"var v{rng.randint(0, 99999)}=function(e,t){{return e&&t?e[{rng.randint(0, 9)}]+t.length:"
                    f"{rng.randint(0, 999)}}};window.cfg_{rng.randint(0, 9999)}={{id:{rng.randint(0, 99999)},on:!0}};\n")
        out.append(line)
        n += len(line)
    return "".join(out)


def _menu(rng: random.Random, base: str, items: int) -> str:
    lis = []
    for i in range(items):
        sub = "".join(f'<li class="menu-item"><a href="{base}/p{i}-{j}/" class="menu-link">{escape(rng.choice(_TOPICS))} {j}</a></li>'
                      for j in range(rng.randint(2, 6)))
        lis.append(f'<li class="menu-item menu-item-has-children"><a href="{base}/s{i}/" class="menu-link">'
                   f'{escape(rng.choice(_TOPICS))}</a><ul class="sub-menu">{sub}</ul></li>')
    return f'<nav class="main-navigation" aria-label="Site"><ul class="main-menu">{"".join(lis)}</ul></nav>'


def _article_body(rng: random.Random, name: str, base: str, facts: dict) -> str:
    parts = [f"<p>{escape(_para(rng))}</p>"]
    notes = []
    for h in range(rng.randint(3, 6)):
        parts.append(f"<h2>{escape(rng.choice(_HEADS).format(t=rng.choice(_TOPICS)))}</h2>")
        for _ in range(rng.randint(1, 3)):
            p = escape(_para(rng))
            if rng.random() < 0.3:
                notes.append(len(notes) + 1)
                p += f'<sup><a href="#fn{notes[-1]}" id="fnref{notes[-1]}">{notes[-1]}</a></sup>'
            if rng.random() < 0.3:
                p = p.replace(" improves ", f' <a href="{base}/guide-{rng.randint(1, 99)}/">improves</a> ', 1)
            parts.append(f"<p>{p}</p>")
        if rng.random() < 0.5:
            items = "".join(f"<li><strong>{escape(rng.choice(_TOPICS))}:</strong> {escape(_para(rng, 2))}</li>"
                            for _ in range(rng.randint(3, 5)))
            parts.append(f'<ul class="wp-block-list">{items}</ul>')
    parts.append(f"<p>At {escape(name)}, we offer programs for every stage. Call us at "
                 f"({rng.randint(200, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999)} today.</p>")
    faq = 0
    if rng.random() < 0.5:
        qs = "".join(
            f'<div class="schema-faq-section"><strong class="schema-faq-question">Does {escape(s.lower())} matter?</strong> '
            f'<p class="schema-faq-answer">{escape(_para(rng, 2))}</p></div>'
            for s in rng.sample(_SUBJECTS, 4))
        parts.append(f'<h2>FAQ</h2><div class="schema-faq wp-block-yoast-faq-block">{qs}</div>')
        faq = 4
    if notes:
        refs = "".join(f'<li id="fn{n}"><a href="https://example.org/study/{rng.randint(1, 9999)}">Study {n} on '
                       f'{escape(rng.choice(_TOPICS).lower())}</a> <a href="#fnref{n}">\u21a9</a></li>' for n in notes)
        parts.append(f'<h3>References</h3><ol class="footnotes">{refs}</ol>')
    facts.update(footnotes=len(notes), faq=faq)
    return "\n".join(parts)


def _page(rng: random.Random, i: int, target: int) -> tuple[str, bytes, dict]:
    layout = i % 4
    name = _NAMES[i % len(_NAMES)]
    host = f"site{i % 4}.example"
    base = f"https://{host}"
    slug = f"post-{i}"
    url = f"{base}/blog/{slug}/"
    title = rng.choice(_HEADS).format(t=rng.choice(_TOPICS))
    facts: dict = {"layout": layout, "title": title}
    body = _article_body(rng, name, base, facts)
    date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00-05:00"
    ld = {"@context": "https://schema.org", "@graph": [
        {"@type": "BlogPosting", "@id": url + "#article", "headline": title, "datePublished": date,
         "author": {"@id": base + "/#author"}, "publisher": {"@id": base + "/#org"}},
        {"@type": "Person", "@id": base + "/#author", "name": "Staff Writer"},
        {"@type": "Organization", "@id": base + "/#org", "name": name}]}
    sidebar = (f'<aside class="sidebar widget-area"><section class="widget widget_recent_entries"><h2 class="widget-title">Recent Posts</h2><ul>'
               + "".join(f'<li><a href="{base}/blog/other-{k}/">{escape(rng.choice(_HEADS).format(t=rng.choice(_TOPICS)))}</a>'
                         f'<span class="post-date">May {k + 1}, 2026</span></li>' for k in range(8))
               + f'</ul></section><section class="widget"><h2>Need Help Now?</h2><p>Speak with {escape(name)} today. '
                 f'Calls are free and confidential.</p></section><section class="widget newsletter"><h2>Newsletter</h2>'
                 f'<form><p>Monthly tips for families.</p><input type="email"><button>Subscribe</button></form></section></aside>')
    cookie = ('<div class="cookie-banner" role="dialog"><p>We use cookies to improve your experience. '
              'By using this site you accept them.</p><button>Accept</button><button>Decline</button></div>')
    footer = (f'<footer class="site-footer"><div class="footer-cols">'
              + "".join(f'<div class="col"><h4>{escape(t)}</h4><ul>' + "".join(
                  f'<li><a href="{base}/{t.lower()}-{k}/">{escape(t)} {k}</a></li>' for k in range(6)) + "</ul></div>"
                  for t in _TOPICS[:4])
              + f'</div><p>&copy; 2026 {escape(name)}. All rights reserved.</p></footer>')
    share = ('<div class="share-buttons">' + "".join(
        f'<a class="share-{s}" href="{url}?share={s}"><span>{s.title()}</span></a>' for s in ("facebook", "x", "email"))
        + "</div>")
    cta = (f'<div class="wp-block-group cta-box"><h3>Ready to Start?</h3><p>Our team answers around the clock.</p>'
           f'<div class="wp-block-button"><a class="wp-block-button__link" href="{base}/contact/">Call now</a></div></div>')
    if layout == 0:
        article = (f'<article class="post type-post hentry"><header class="entry-header"><h1 class="entry-title">{escape(title)}</h1>'
                   f'<div class="entry-meta">By <span class="author vcard">Staff Writer</span></div></header>'
                   f'<div class="entry-content">{body}{cta}{share}</div></article>')
    elif layout == 1:
        article = (f'<article class="entry h-entry"><div class="blog-item-title"><h1 class="entry-title">{escape(title)}</h1></div>'
                   f'<div class="blog-item-content e-content"><div class="sqs-layout"><div class="row sqs-row"><div class="col sqs-col-12">'
                   f'<div class="sqs-block html-block"><div class="sqs-block-content"><div class="sqs-html-content">{body}</div></div></div>'
                   f'<div class="sqs-block button-block"><a class="sqs-button-element--primary" href="{base}/contact/">Talk to us</a></div>'
                   f'</div></div></div></div>{share}</article>')
    elif layout == 2:
        article = (f'<div class="elementor elementor-location-single"><section class="elementor-section"><div class="elementor-widget-container">'
                   f'<h2 class="elementor-heading-title">{escape(name)} is here for you</h2></div><div class="elementor-widget-container">'
                   f'<h1 class="elementor-heading-title">{escape(title)}</h1></div></section><section class="elementor-section">'
                   f'<div class="elementor-widget elementor-widget-theme-post-content"><div class="elementor-widget-container">{body}</div></div>'
                   f'<div class="elementor-widget elementor-widget-call-to-action"><h3 class="elementor-cta__title">Get started</h3>'
                   f'<div class="elementor-cta__description">Our admissions team can help.</div></div></section></div>')
    else:
        article = (f'<div class="container"><div class="row"><div class="col-lg-8"><article class="post post--single">'
                   f'<header class="post__header"><h1 class="post__title">{escape(title)}</h1><p class="post__byline">By '
                   f'<span class="post__author">Staff Writer</span></p></header><div class="post__body rte">{body}</div>'
                   f'<div class="post__cta"><h3>Questions?</h3><p>Call our team any time.</p></div></article></div></div></div>')
    head_top = (f'<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8"><title>{escape(title)} | {escape(name)}</title>'
                f'<link rel="canonical" href="{url}"><meta property="og:site_name" content="{escape(name)}">'
                f'<meta property="og:title" content="{escape(title)}"><meta property="article:published_time" content="{date}">'
                f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    page_top = (f'<body class="single single-post"><a class="skip-link screen-reader-text" href="#content">Skip to content</a>'
                f'<div class="announcement-bar"><p>Now enrolling. Call for a confidential assessment.</p></div>'
                f'<header class="site-header" role="banner">{_menu(rng, base, rng.randint(6, 12))}</header>'
                f'<main id="content" class="site-main">{article}</main>{sidebar}{footer}{cookie}')
    scripts = f"<script>{_blob(rng, 'js', 3000)}</script></body></html>"
    fixed = len(head_top) + len(page_top) + len(scripts) + 40
    pad = max(0, target - fixed)
    css = _blob(rng, "css", pad * 6 // 10)
    js = _blob(rng, "js", pad - len(css))
    html = f"{head_top}<style>{css}</style><script>{js}</script></head>{page_top}{scripts}"
    return url, html.encode("utf-8"), facts


def make_pages(n: int = 200, seed: int = 7, min_kb: int = 50, max_kb: int = 150) -> list[tuple[str, bytes, dict]]:
    rng = random.Random(seed)
    return [_page(rng, i, rng.randint(min_kb * 1024, max_kb * 1024)) for i in range(n)]
