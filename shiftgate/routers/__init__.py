"""How traffic is split between colors: the router adapters (HAProxy, Gateway API, Istio,
Service selector)."""
