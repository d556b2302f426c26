"""The service's one web server (aiohttp.web): channel webhooks, /healthz, /metrics and signed file links."""
