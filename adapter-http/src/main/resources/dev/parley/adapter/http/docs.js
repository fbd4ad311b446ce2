// Starts Swagger UI on /docs. A file of its own rather than an inline script, so that the page's
// Content-Security-Policy can allow scripts from this server only.
window.ui = SwaggerUIBundle({
  url: document.getElementById('swagger-ui').dataset.openapiUrl,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null // no badge fetched from validator.swagger.io: the page talks to this server only
});
