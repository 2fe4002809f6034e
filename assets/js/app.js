// Starts GOV.UK Frontend's components. Loaded as a module, so browsers without module support
// get the plain HTML service, which works fully without JavaScript.
import { initAll } from "./govuk-frontend.min.js";
import { initTimeoutWarning } from "./timeout.js";

initAll();
initTimeoutWarning();
