// Idle timeout warning (WCAG 2.2.1, the HMRC/DWP timeout pattern).
// The server ends an idle session after IDLE_TIMEOUT_MINUTES. Two minutes before that, an
// accessible alertdialog takes focus and offers "Stay signed in" (POST /account/keep-alive, which
// touches the server-side session) or "Sign out". If nobody answers, the page goes to /signed-out.
// No inline scripts or styles: the settings come from data- attributes on <body>.

function button(text, classes) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "govuk-button " + classes;
  element.textContent = text;
  return element;
}

function buildDialog() {
  const dialog = document.createElement("div");
  dialog.className = "app-timeout-dialog";
  dialog.setAttribute("role", "alertdialog");
  dialog.setAttribute("aria-modal", "true");
  dialog.setAttribute("aria-labelledby", "app-timeout-heading");
  dialog.setAttribute("aria-describedby", "app-timeout-message");
  dialog.tabIndex = -1;
  dialog.hidden = true;
  const heading = document.createElement("h2");
  heading.className = "govuk-heading-m";
  heading.id = "app-timeout-heading";
  heading.textContent = "You are about to be signed out";
  const message = document.createElement("p");
  message.className = "govuk-body";
  message.id = "app-timeout-message";
  message.textContent = "For your security, you will be signed out in 2 minutes because you have not done anything. Answers you have not saved will be lost.";
  const stay = button("Stay signed in", "");
  const leave = button("Sign out", "govuk-button--secondary");
  const group = document.createElement("div");
  group.className = "govuk-button-group";
  group.append(stay, leave);
  dialog.append(heading, message, group);
  document.body.append(dialog);
  return { dialog, stay, leave };
}

function signOutForm(settings) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = settings.signOutUrl;
  const token = document.createElement("input");
  token.type = "hidden";
  token.name = "csrf_token";
  token.value = settings.csrfToken;
  form.append(token);
  document.body.append(form);
  return form;
}

export function initTimeoutWarning(body = document.body) {
  const data = body.dataset;
  const timeoutSeconds = Number(data.idleTimeoutSeconds);
  if (!timeoutSeconds || !data.keepAliveUrl) {
    return null; // not signed in
  }
  const warningSeconds = Math.min(Number(data.idleWarningSeconds || 120), timeoutSeconds);
  const settings = { signOutUrl: data.signOutUrl, csrfToken: data.csrfToken };
  const { dialog, stay, leave } = buildDialog();
  let warnTimer = null;
  let expireTimer = null;
  let returnFocus = null;

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    warnTimer = setTimeout(show, (timeoutSeconds - warningSeconds) * 1000);
    expireTimer = setTimeout(() => window.location.assign(data.signedOutUrl), timeoutSeconds * 1000);
  }

  // While the warning is open everything else is inert, so Tab cannot leave the dialog
  // (aria-modal alone does not stop keyboard focus: WCAG 2.4.11).
  function setBackgroundInert(inert) {
    for (const element of document.body.children) {
      if (element !== dialog && element.tagName !== "SCRIPT") {
        element.inert = inert;
      }
    }
  }

  function show() {
    returnFocus = document.activeElement;
    setBackgroundInert(true);
    dialog.hidden = false;
    dialog.focus();
  }

  function hide() {
    dialog.hidden = true;
    setBackgroundInert(false);
    if (returnFocus && returnFocus.focus) {
      returnFocus.focus();
    }
  }

  // Tab and Shift+Tab cycle between the dialog's two buttons while it is open.
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") {
      return;
    }
    const first = stay;
    const last = leave;
    if (event.shiftKey && (document.activeElement === first || document.activeElement === dialog)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  stay.addEventListener("click", async () => {
    const response = await fetch(data.keepAliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": data.csrfToken },
    });
    if (response.status === 204) {
      hide();
      schedule();
    } else {
      window.location.assign(data.signedOutUrl);
    }
  });
  leave.addEventListener("click", () => signOutForm(settings).submit());
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      stay.click();
    }
  });
  schedule();
  return { dialog, schedule };
}
