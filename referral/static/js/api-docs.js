// Starts Swagger UI on /api/v1/docs (a file of our own: the CSP allows no inline script).
// The address of the OpenAPI document comes from the page, so it follows the app's routes.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No request to validator.swagger.io: the page talks to this server only.
    validatorUrl: null,
    tryItOutEnabled: false,
    persistAuthorization: false
  });
})();
