"""Console views, one module per area. Each parses, authorises (``console_view``), calls one
service or selector, and renders."""
