"""The app's stylesheet: laid out for 80x24 first, growing with the terminal."""

CSS = """
LoginScreen {
    align: center middle;
}
#login-box {
    width: 72;
    max-width: 100%;
    height: auto;
    border: round $accent;
    padding: 0 1;
}
#login-title {
    width: 100%;
    content-align: center middle;
}
#login-fields {
    grid-size: 2;
    grid-columns: 14 1fr;
    grid-rows: 3;
    height: auto;
}
.field-label {
    height: 3;
    content-align: left middle;
}
#login-buttons {
    height: auto;
}
#login-buttons Checkbox {
    width: 1fr;
}
#login-status {
    height: auto;
    min-height: 1;
}

TrustScreen {
    align: center middle;
}
#trust-box {
    width: 78;
    max-width: 100%;
    height: auto;
    border: thick $warning;
    background: $surface;
    padding: 0 1;
}
#trust-buttons {
    height: auto;
    align: right middle;
}

#title-bar {
    height: 1;
    background: $panel;
    padding: 0 1;
}
#main {
    height: 1fr;
}
#transcript {
    width: 1fr;
    scrollbar-size-vertical: 1;
    scrollbar-gutter: stable;
}
#participants {
    width: 24;
    padding: 0 0 0 1;
    background: $boost;
}
#participants.-narrow {
    display: none;
}
#count {
    height: 1;
}
#names {
    height: 1fr;
    border: none;
    padding: 0;
}
#transfers {
    height: auto;
    max-height: 4;
}
.transfer {
    height: 1;
}
.transfer-name {
    width: 1fr;
}
#compose {
    height: auto;
}
#to {
    width: 22;
}
#input {
    width: 1fr;
    height: auto;
    min-height: 3;
    max-height: 8;
}
"""
