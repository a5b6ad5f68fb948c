"""The elements and attributes MJML 4 defines.

mjml-python compiles whatever it is given and silently drops tags and attributes it does not
know, so a typo such as ``<mj-buton>`` or ``backgroud-color`` produces a quietly broken email.
`mailer check` compares templates against these tables instead. They follow the
``allowedAttributes`` declared by each component of MJML 4 (``packages/mjml-*/src``).
"""

from __future__ import annotations


def _sides(prefix: str) -> frozenset[str]:
    """``prefix`` plus its -top/-right/-bottom/-left variants (padding, border...)."""
    return frozenset({prefix, *(f"{prefix}-{side}" for side in ("top", "right", "bottom", "left"))})


_PADDING = _sides("padding")
_BORDER = _sides("border")
_FONT = frozenset(
    {
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "letter-spacing",
        "line-height",
        "text-decoration",
        "text-transform",
    }
)
_LINK = frozenset({"href", "rel", "target", "title", "name"})
_BACKGROUND = frozenset(
    {
        "background-color",
        "background-url",
        "background-repeat",
        "background-size",
        "background-position",
        "background-position-x",
        "background-position-y",
    }
)
_ACCORDION_ICONS = frozenset(
    {
        "icon-align",
        "icon-width",
        "icon-height",
        "icon-wrapped-url",
        "icon-wrapped-alt",
        "icon-unwrapped-url",
        "icon-unwrapped-alt",
        "icon-position",
    }
)

_SECTION = (
    _BACKGROUND
    | _BORDER
    | _PADDING
    | frozenset({"border-radius", "direction", "full-width", "text-align", "gap"})
)

#: Attributes each MJML element accepts, besides :data:`GLOBAL_ATTRIBUTES`.
ELEMENT_ATTRIBUTES: dict[str, frozenset[str]] = {
    # Document structure and head
    "mjml": frozenset({"owa", "lang", "dir"}),
    "mj-head": frozenset(),
    "mj-body": frozenset({"width", "background-color"}),
    "mj-attributes": frozenset(),
    "mj-all": frozenset(),  # any attribute; checked specially under mj-attributes
    "mj-class": frozenset({"name"}),
    "mj-breakpoint": frozenset({"width"}),
    "mj-font": frozenset({"name", "href"}),
    "mj-html-attributes": frozenset(),
    "mj-html-attribute": frozenset({"name"}),
    "mj-selector": frozenset({"path"}),
    "mj-preview": frozenset(),
    "mj-style": frozenset({"inline"}),
    "mj-title": frozenset(),
    "mj-include": frozenset({"path", "type", "css-inline"}),
    # Layout
    "mj-section": _SECTION,
    "mj-wrapper": _SECTION,
    "mj-group": frozenset({"background-color", "direction", "vertical-align", "width"}),
    "mj-column": _BORDER
    | _PADDING
    | _sides("inner-border")
    | frozenset(
        {
            "background-color",
            "border-radius",
            "direction",
            "inner-background-color",
            "inner-border-radius",
            "vertical-align",
            "width",
        }
    ),
    "mj-hero": _PADDING
    | _sides("inner-padding")
    | frozenset(
        {
            "mode",
            "height",
            "background-width",
            "background-height",
            "background-position",
            "background-url",
            "background-color",
            "border-radius",
            "container-background-color",
            "inner-background-color",
            "vertical-align",
            "width",
        }
    ),
    # Content
    "mj-text": _FONT
    | _PADDING
    | frozenset(
        {
            "align",
            "background-color",
            "color",
            "container-background-color",
            "height",
            "vertical-align",
        }
    ),
    "mj-button": _FONT
    | _PADDING
    | _BORDER
    | _LINK
    | frozenset(
        {
            "align",
            "background-color",
            "border-radius",
            "color",
            "container-background-color",
            "height",
            "inner-padding",
            "text-align",
            "vertical-align",
            "width",
        }
    ),
    "mj-image": _PADDING
    | _BORDER
    | _LINK
    | frozenset(
        {
            "alt",
            "src",
            "srcset",
            "sizes",
            "align",
            "border-radius",
            "container-background-color",
            "fluid-on-mobile",
            "width",
            "height",
            "max-height",
            "font-size",
            "usemap",
        }
    ),
    "mj-divider": _PADDING
    | frozenset(
        {
            "align",
            "border-color",
            "border-style",
            "border-width",
            "container-background-color",
            "width",
        }
    ),
    "mj-spacer": _PADDING | _BORDER | frozenset({"container-background-color", "height"}),
    "mj-table": _PADDING
    | frozenset(
        {
            "align",
            "border",
            "cellpadding",
            "cellspacing",
            "color",
            "container-background-color",
            "font-family",
            "font-size",
            "font-weight",
            "line-height",
            "role",
            "table-layout",
            "vertical-align",
            "width",
        }
    ),
    "mj-raw": frozenset({"position"}),
    # Interactive components
    "mj-navbar": _sides("ico-padding")
    | frozenset(
        {
            "align",
            "base-url",
            "hamburger",
            "ico-align",
            "ico-open",
            "ico-close",
            "ico-color",
            "ico-font-size",
            "ico-font-family",
            "ico-text-transform",
            "ico-text-decoration",
            "ico-line-height",
        }
    ),
    "mj-navbar-link": _FONT | _PADDING | _LINK | frozenset({"color"}),
    "mj-social": _PADDING
    | frozenset(
        {
            "align",
            "border-radius",
            "color",
            "container-background-color",
            "font-family",
            "font-size",
            "font-style",
            "font-weight",
            "icon-size",
            "icon-height",
            "icon-padding",
            "inner-padding",
            "line-height",
            "mode",
            "table-layout",
            "text-decoration",
            "text-padding",
            "vertical-align",
        }
    ),
    "mj-social-element": _FONT
    | _PADDING
    | _LINK
    | frozenset(
        {
            "align",
            "alt",
            "background-color",
            "border-radius",
            "color",
            "icon-position",
            "icon-size",
            "icon-height",
            "icon-padding",
            "src",
            "srcset",
            "sizes",
            "text-padding",
            "vertical-align",
        }
    ),
    "mj-accordion": _PADDING
    | _ACCORDION_ICONS
    | frozenset({"border", "container-background-color", "font-family"}),
    "mj-accordion-element": _ACCORDION_ICONS
    | frozenset({"background-color", "border", "font-family"}),
    "mj-accordion-title": _PADDING
    | frozenset({"background-color", "color", "font-size", "font-family"}),
    "mj-accordion-text": _PADDING
    | frozenset(
        {
            "background-color",
            "color",
            "font-size",
            "font-family",
            "font-weight",
            "letter-spacing",
            "line-height",
        }
    ),
    "mj-carousel": _PADDING
    | frozenset(
        {
            "align",
            "border-radius",
            "container-background-color",
            "icon-width",
            "left-icon",
            "right-icon",
            "thumbnails",
            "tb-border",
            "tb-border-radius",
            "tb-hover-border-color",
            "tb-selected-border-color",
            "tb-width",
        }
    ),
    "mj-carousel-image": _LINK
    | frozenset({"alt", "src", "thumbnails-src", "border-radius", "tb-border", "tb-border-radius"}),
}

#: Attributes every element inside <mj-body> may carry.
GLOBAL_ATTRIBUTES = frozenset({"mj-class", "css-class"})

#: Elements whose children hold default attributes (any known attribute) rather than content.
ATTRIBUTE_DEFAULT_CONTAINERS = frozenset({"mj-attributes"})

#: Elements whose content is raw HTML or text, not MJML, so validation stops there.
ENDING_TAGS = frozenset(
    {
        "mj-text",
        "mj-button",
        "mj-table",
        "mj-raw",
        "mj-navbar-link",
        "mj-accordion-title",
        "mj-accordion-text",
        "mj-social-element",
        "mj-carousel-image",
        "mj-style",
        "mj-title",
        "mj-preview",
        "mj-html-attribute",
        "mj-selector",
    }
)
