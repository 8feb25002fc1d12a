"""The provider side: request and response schemas, the HTTP client, callback signatures."""
