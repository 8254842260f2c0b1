// certexport API reference: reads /openapi.json and shows every call with
// its parameters, body fields and answers, and a form that sends it.
"use strict";
(function () {
  var root = document.getElementById("operations");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function resolve(doc, schema) {
    if (schema && schema.$ref) {
      return doc.components.schemas[schema.$ref.split("/").pop()];
    }
    return schema || {};
  }

  function typeOf(s) {
    var t = Array.isArray(s.type) ? s.type.join(" or ") : (s.type || "any");
    if (s.enum) { t += ": " + s.enum.join(", "); }
    if (s.format) { t += " (" + s.format + ")"; }
    return t;
  }

  function fieldTable(schema) {
    var props = schema.properties || {};
    var required = schema.required || [];
    var rows = Object.keys(props).map(function (name) {
      var p = props[name];
      return el("tr", {}, [
        el("td", { "data-label": "Field" }, [el("code", {}, [name]), required.indexOf(name) >= 0 ? " (required)" : ""]),
        el("td", { "data-label": "Type" }, [typeOf(p)]),
        el("td", { "data-label": "About" }, [p.description || ""])
      ]);
    });
    return el("table", { "class": "stack" }, [el("thead", {}, [el("tr", {}, [el("th", {}, ["Field"]), el("th", {}, ["Type"]), el("th", {}, ["About"])])]),
      el("tbody", {}, rows)]);
  }

  // A body to start from: the required fields, and CertID.
  function example(schema) {
    var out = {};
    var props = schema.properties || {};
    Object.keys(props).forEach(function (name) {
      var p = props[name];
      if ((schema.required || []).indexOf(name) < 0 && name !== "CertID") { return; }
      out[name] = p.type === "integer" ? 1 : p.type === "boolean" ? false : p.enum ? p.enum[0] : "";
    });
    return JSON.stringify(out, null, 2);
  }

  function credentials(headers) {
    var token = document.getElementById("auth-token").value;
    var name = document.getElementById("auth-name").value;
    var password = document.getElementById("auth-password").value;
    if (token) {
      headers.set("Authorization", "Bearer " + token);
    } else if (name) {
      var bytes = new TextEncoder().encode(name + ":" + password);
      var text = "";
      bytes.forEach(function (b) { text += String.fromCharCode(b); });
      headers.set("Authorization", "Basic " + btoa(text));
    }
  }

  function operation(doc, path, method, op, n) {
    var id = "op" + n;
    var parts = [el("p", {}, [op.description || ""])];
    var inputs = [];
    (op.parameters || []).forEach(function (p, i) {
      var inputId = id + "-p" + i;
      var input = el("input", { id: inputId });
      inputs.push({ param: p, input: input });
      parts.push(el("label", { "for": inputId }, [p.name + " (" + p.in + ")"]), input,
        el("small", {}, [p.description || ""]));
    });
    var body = null;
    if (op.requestBody) {
      var schema = resolve(doc, op.requestBody.content["application/json"].schema);
      parts.push(el("h3", {}, ["Body fields"]), fieldTable(schema));
      body = el("textarea", { id: id + "-body", spellcheck: "false" });
      body.value = example(schema);
      parts.push(el("label", { "for": id + "-body" }, ["Body (JSON)"]), body);
    }
    var answers = el("ul", {}, Object.keys(op.responses).map(function (status) {
      var r = op.responses[status];
      return el("li", {}, [el("code", {}, [status]), " " + (r.description || "")]);
    }));
    parts.push(el("h3", {}, ["Answers"]), answers);
    var out = el("pre", { "class": "out", id: id + "-out", "aria-live": "polite", hidden: "" });
    var send = el("button", { type: "button" }, ["Send"]);
    send.addEventListener("click", function () {
      var headers = new Headers();
      var query = new URLSearchParams();
      inputs.forEach(function (x) {
        if (!x.input.value) { return; }
        if (x.param.in === "header") { headers.set(x.param.name, x.input.value); }
        if (x.param.in === "query") { query.set(x.param.name, x.input.value); }
      });
      credentials(headers);
      var init = { method: method.toUpperCase(), headers: headers, credentials: "omit", cache: "no-store" };
      if (body) { headers.set("Content-Type", "application/json"); init.body = body.value; }
      var url = path + (query.toString() ? "?" + query.toString() : "");
      out.hidden = false;
      out.textContent = "Sending…";
      fetch(url, init).then(function (response) {
        return response.text().then(function (text) {
          var file = response.headers.get("X-CertificateFile");
          out.textContent = response.status + " " + response.statusText +
            (file ? "\nX-CertificateFile: " + file : "") + "\n\n" + text;
        });
      }).catch(function (e) { out.textContent = "The call failed: " + e; });
    });
    parts.push(el("div", { "class": "actions" }, [send]), out);
    var summary = el("summary", {}, [el("span", { "class": "method" }, [method]), " " + path + " — " + (op.summary || "")]);
    return el("details", { "class": "op", id: id }, [summary].concat(parts));
  }

  fetch("/openapi.json", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (doc) {
    document.getElementById("about").textContent = doc.info.title + " " + doc.info.version + ": " + doc.info.description;
    var n = 0;
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags || ["Other"])[0];
        (byTag[tag] = byTag[tag] || []).push(operation(doc, path, method, op, n++));
      });
    });
    Object.keys(byTag).forEach(function (tag) {
      root.appendChild(el("h2", {}, [tag]));
      byTag[tag].forEach(function (node) { root.appendChild(node); });
    });
  }).catch(function (e) { root.textContent = "The document could not be read: " + e; });
}());
