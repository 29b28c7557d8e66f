"""Browser tests of the web dashboard: headless Debian Chromium driven by Playwright."""
