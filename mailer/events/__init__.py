"""SendGrid's Event Webhook, apart from HTTP: checking a POST's signature (``signature``),
reading its body into events (``parse``), storing the new ones once each (``store``) and
what they change (``rules``)."""
