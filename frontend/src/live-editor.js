/*
 * The live section editor: Tiptap 3 bound to a Yjs document shared over the
 * section's WebSocket (the Yjs sync and awareness protocols), kept in this
 * browser (IndexedDB) so that edits made offline merge when the connection
 * returns. Strict CSP: no inline style, no eval; colours are classes.
 *
 * Without this script (or without WebSockets) the page keeps its plain text
 * box and Save button; the server writes such saves into the live document.
 */
import { Editor, Extension } from "@tiptap/core";
import { Plugin, PluginKey } from "@tiptap/pm/state";
import { Decoration, DecorationSet } from "@tiptap/pm/view";
import {
  absolutePositionToRelativePosition,
  relativePositionToAbsolutePosition,
  ySyncPluginKey,
} from "@tiptap/y-tiptap";
import StarterKit from "@tiptap/starter-kit";
import Collaboration from "@tiptap/extension-collaboration";
import CollaborationCaret from "@tiptap/extension-collaboration-caret";
import * as Y from "yjs";
import { IndexeddbPersistence } from "y-indexeddb";
import * as syncProtocol from "y-protocols/sync";
import * as awarenessProtocol from "y-protocols/awareness";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_STORED = 100; // Engage's: the server committed one of our updates
const EMPTY_STEP2 = 5; // bytes of a sync step 2 that carries nothing
const PALETTE = 8; // caret colours: .live-c0 … .live-c7 in engage.css
const CLOSED_FOR_GOOD = new Set([4401, 4403, 4400]);

/** A Yjs provider for Engage's socket: reconnects, reports its state, stops when refused. */
class SectionProvider {
  constructor(url, doc, onState) {
    this.url = url;
    this.doc = doc;
    this.awareness = new awarenessProtocol.Awareness(doc);
    this.onState = onState;
    this.ws = null;
    this.retry = 500;
    this.stopped = false;
    this.synced = false;
    this.sent = 0; // updates sent on this connection
    this.stored = 0; // ... and acknowledged as stored
    // Typed (or loaded from this browser) while no socket was open: the server has it
    // only once our sync step 2 went out, so "Saved" waits for that and its receipt.
    this.unsent = false;
    doc.on("update", (update, origin) => {
      if (origin === this) return;
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        this.unsent = true;
        return;
      }
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeUpdate(encoder, update);
      this.sendUpdate(encoding.toUint8Array(encoder));
    });
    this.awareness.on("update", ({ added, updated, removed }) => {
      const changed = added.concat(updated, removed);
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
      encoding.writeVarUint8Array(
        encoder,
        awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed),
      );
      this.send(encoding.toUint8Array(encoder));
    });
    window.addEventListener("online", () => {
      this.retry = 500;
      this.connect();
    });
    // The browser knows it lost the network before the socket does: say so at once.
    window.addEventListener("offline", () => {
      if (this.ws) this.ws.close();
      this.onState("offline");
    });
    window.addEventListener("beforeunload", () => {
      awarenessProtocol.removeAwarenessStates(this.awareness, [doc.clientID], "window unload");
    });
    this.connect();
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(message);
  }

  /** "Saved" once joined, with nothing typed unconnected left to send and every update stored. */
  settled() {
    if (this.synced && !this.unsent && this.stored >= this.sent) this.onState("saved");
  }

  sendUpdate(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.sent += 1;
      this.ws.send(message);
      this.onState("saving");
    }
  }

  connect() {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 500;
      this.sent = 0;
      this.stored = 0;
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MESSAGE_SYNC);
      syncProtocol.writeSyncStep1(encoder, this.doc);
      ws.send(encoding.toUint8Array(encoder));
      if (this.awareness.getLocalState() !== null) {
        const aw = encoding.createEncoder();
        encoding.writeVarUint(aw, MESSAGE_AWARENESS);
        encoding.writeVarUint8Array(
          aw,
          awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID]),
        );
        ws.send(encoding.toUint8Array(aw));
      }
    };
    ws.onmessage = (event) => {
      const decoder = decoding.createDecoder(new Uint8Array(event.data));
      const type = decoding.readVarUint(decoder);
      if (type === MESSAGE_SYNC) {
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, MESSAGE_SYNC);
        const kind = syncProtocol.readSyncMessage(decoder, encoder, this.doc, this);
        if (encoding.length(encoder) > 1) {
          const reply = encoding.toUint8Array(encoder);
          // Our step 2 carries what we typed offline: the server will acknowledge it.
          if (reply.length > EMPTY_STEP2) this.sendUpdate(reply);
          else ws.send(reply);
          if (kind === syncProtocol.messageYjsSyncStep1) this.unsent = false;
        }
        if (kind === syncProtocol.messageYjsSyncStep2) this.synced = true;
        this.settled();
      } else if (type === MESSAGE_STORED) {
        this.stored += 1;
        this.settled();
      } else if (type === MESSAGE_AWARENESS) {
        awarenessProtocol.applyAwarenessUpdate(
          this.awareness,
          decoding.readVarUint8Array(decoder),
          this,
        );
      }
    };
    ws.onclose = (event) => {
      this.ws = null;
      this.synced = false;
      awarenessProtocol.removeAwarenessStates(
        this.awareness,
        Array.from(this.awareness.getStates().keys()).filter((id) => id !== this.doc.clientID),
        this,
      );
      if (CLOSED_FOR_GOOD.has(event.code)) {
        this.stopped = true;
        this.onState(event.code === 4400 ? "refused" : "denied");
        return;
      }
      if (event.code === 4405) {
        this.onState("readonly");
        this.stopped = true;
        return;
      }
      this.onState("offline");
      if (navigator.onLine === false) return; // the "online" event reconnects
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
  }
}

function colourOf(id) {
  let hash = 0;
  for (const ch of String(id)) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return "live-c" + (Math.abs(hash) % PALETTE);
}

function withoutStyles(html) {
  // Any parse of a style attribute counts against the CSP: remove them from the text first.
  const text = html
    .replace(/<style[\s\S]*?<\/style>/gi, "")
    .replace(/\sstyle\s*=\s*("[^"]*"|'[^']*'|[^\s>]*)/gi, "");
  const parsed = new DOMParser().parseFromString(text, "text/html");
  parsed.querySelectorAll("style, script, link, meta").forEach((el) => el.remove());
  parsed.querySelectorAll("[style], [class]").forEach((el) => {
    el.removeAttribute("style");
    el.removeAttribute("class");
  });
  return parsed.body.innerHTML;
}

function plainLength(editor) {
  const text = editor.state.doc.textBetween(0, editor.state.doc.content.size, "\n", "\n");
  return Array.from(text.normalize("NFC")).length;
}

// --- Comments on a passage: two Yjs relative positions that follow the words -------------

const ROOT = "default"; // the shared document's root type (Collaboration's field)

function toBase64(bytes) {
  let text = "";
  bytes.forEach((b) => (text += String.fromCharCode(b)));
  return btoa(text);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Where an anchored passage is now in the editor, or null (deleted, or not joined yet). */
function anchoredRange(state, doc, anchor) {
  const sync = ySyncPluginKey.getState(state);
  if (!sync || !sync.binding) return null;
  const type = doc.getXmlFragment(ROOT);
  const from = relativePositionToAbsolutePosition(doc, type, anchor.start, sync.binding.mapping);
  const to = relativePositionToAbsolutePosition(doc, type, anchor.end, sync.binding.mapping);
  if (from === null || to === null || to <= from) return null;
  return { from, to };
}

/** The passages comments are anchored to, highlighted in the text as it changes. */
function commentAnchors(doc, anchors) {
  return Extension.create({
    name: "commentAnchors",
    addProseMirrorPlugins() {
      return [
        new Plugin({
          key: new PluginKey("engageCommentAnchors"),
          props: {
            decorations(state) {
              const marks = [];
              for (const anchor of anchors) {
                const range = anchoredRange(state, doc, anchor);
                if (range) {
                  marks.push(
                    Decoration.inline(range.from, range.to, {
                      class: "comment-anchor",
                      "data-comment": anchor.id,
                    }),
                  );
                }
              }
              return DecorationSet.create(state.doc, marks);
            },
          },
        }),
      ];
    },
  });
}

function readAnchors() {
  const anchors = [];
  document.querySelectorAll("article[data-anchor-start]").forEach((el) => {
    try {
      anchors.push({
        id: el.id,
        el,
        start: Y.decodeRelativePosition(fromBase64(el.getAttribute("data-anchor-start"))),
        end: Y.decodeRelativePosition(fromBase64(el.getAttribute("data-anchor-end"))),
      });
    } catch (error) {
      // A position this page cannot read is shown as a plain quote.
    }
  });
  return anchors;
}

function start(root) {
  const form = document.querySelector("form[data-editor]");
  const url = new URL(root.getAttribute("data-live"), window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const editable = root.getAttribute("data-can-edit") === "1";
  const me = { name: root.getAttribute("data-user") || "", id: root.getAttribute("data-user-id") };
  const status = root.querySelector("[data-live-status]");
  const who = root.querySelector("[data-live-who]");
  const counter = root.querySelector("[data-live-count]");
  const over = root.querySelector("[data-live-over]");
  const limit = parseInt(root.getAttribute("data-limit") || "0", 10);
  const mount = root.querySelector("[data-live-editor]");

  const doc = new Y.Doc();
  const anchors = readAnchors();
  new IndexeddbPersistence("engage:" + root.getAttribute("data-doc"), doc);
  const provider = new SectionProvider(url.toString(), doc, (state) => {
    status.textContent = status.getAttribute("data-" + state) || "";
    status.setAttribute("data-state", state);
    if (state === "readonly" || state === "denied") editor.setEditable(false);
  });

  const editor = new Editor({
    element: mount,
    editable,
    injectCSS: false,
    extensions: [
      StarterKit.configure({
        undoRedo: false, // Yjs keeps the history of a shared document
        heading: false,
        blockquote: false,
        codeBlock: false,
        code: false,
        horizontalRule: false,
        strike: false,
        underline: false,
        trailingNode: false,
        link: {
          openOnClick: false,
          autolink: true,
          defaultProtocol: "https",
          isAllowedUri: (href) => /^(https?:|mailto:)/i.test(href),
        },
      }),
      Collaboration.configure({ document: doc, field: ROOT }),
      commentAnchors(doc, anchors),
      CollaborationCaret.configure({
        provider,
        user: { name: me.name, colour: colourOf(me.id) },
        render: (user) => {
          const caret = document.createElement("span");
          caret.className = "live-caret " + (user.colour || "live-c0");
          const label = document.createElement("span");
          label.className = "live-caret-label";
          label.textContent = user.name || "";
          caret.appendChild(label);
          return caret;
        },
        selectionRender: (user) => ({
          nodeName: "span",
          class: "live-selection " + (user.colour || "live-c0"),
          "data-user": user.name || "",
        }),
      }),
    ],
    editorProps: {
      // Word and web pages paste styles: drop them in an inert document first (the
      // schema keeps only the subset anyway; this spares the CSP its violations).
      transformPastedHTML: withoutStyles,
      attributes: {
        class: "live-text",
        role: "textbox",
        "aria-multiline": "true",
        "aria-label": root.getAttribute("data-label") || "",
      },
    },
    onUpdate: ({ editor: e }) => showCount(e),
    onCreate: ({ editor: e }) => showCount(e),
  });
  root.editor = editor; // for the journeys' tests: the text as people see it

  function showCount(e) {
    const n = plainLength(e);
    counter.textContent = n.toLocaleString(document.documentElement.lang || undefined);
    if (over) over.hidden = !(limit && n > limit);
  }

  provider.awareness.on("change", () => {
    const names = [];
    provider.awareness.getStates().forEach((state, id) => {
      if (id !== doc.clientID && state.user && state.user.name) names.push(state.user.name);
    });
    who.textContent = names.length
      ? (who.getAttribute("data-here") || "").replace("%(names)s", [...new Set(names)].join(", "))
      : "";
  });

  // The toolbar: buttons with names, pressed state, and the same keyboard shortcuts.
  const commands = {
    bold: () => editor.chain().focus().toggleBold().run(),
    italic: () => editor.chain().focus().toggleItalic().run(),
    bulletList: () => editor.chain().focus().toggleBulletList().run(),
    orderedList: () => editor.chain().focus().toggleOrderedList().run(),
    link: () => {
      if (editor.isActive("link")) return editor.chain().focus().unsetLink().run();
      const href = window.prompt(root.getAttribute("data-link-prompt") || "URL", "https://");
      if (!href || !/^(https?:\/\/|mailto:)/i.test(href.trim())) return false;
      return editor.chain().focus().extendMarkRange("link").setLink({ href: href.trim() }).run();
    },
  };
  const buttons = root.querySelectorAll("[data-cmd]");
  buttons.forEach((button) => {
    button.addEventListener("click", () => commands[button.getAttribute("data-cmd")]());
    button.disabled = !editable;
  });
  const pressed = () =>
    buttons.forEach((button) => {
      button.setAttribute("aria-pressed", String(editor.isActive(button.getAttribute("data-cmd"))));
    });
  editor.on("selectionUpdate", pressed);
  editor.on("transaction", pressed);
  mount.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
      event.preventDefault();
      commands.link();
    }
  });

  // Comments on a passage: selecting words (writers and readers alike) fills the new
  // comment's quote and its two positions; each anchored comment can show its passage.
  const newComment = document.querySelector("form[data-new-comment]");
  if (newComment) {
    const startInput = newComment.querySelector("[data-new-anchor-start]");
    const endInput = newComment.querySelector("[data-new-anchor-end]");
    const quote = newComment.querySelector("input[name=quote]");
    newComment.querySelector("[data-anchor-hint]").hidden = false;
    const takeSelection = () => {
      const selection = window.getSelection();
      if (!selection || selection.isCollapsed) return;
      if (!mount.contains(selection.anchorNode) || !mount.contains(selection.focusNode)) return;
      const sync = ySyncPluginKey.getState(editor.state);
      if (!sync || !sync.binding) return;
      const a = editor.view.posAtDOM(selection.anchorNode, selection.anchorOffset);
      const b = editor.view.posAtDOM(selection.focusNode, selection.focusOffset);
      const from = Math.min(a, b);
      const to = Math.max(a, b);
      if (to <= from) return;
      const type = doc.getXmlFragment(ROOT);
      const encode = (pos) =>
        toBase64(
          Y.encodeRelativePosition(
            absolutePositionToRelativePosition(pos, type, sync.binding.mapping),
          ),
        );
      startInput.value = encode(from);
      endInput.value = encode(to);
      quote.value = editor.state.doc.textBetween(from, to, " ").slice(0, 1000);
    };
    mount.addEventListener("mouseup", takeSelection);
    mount.addEventListener("keyup", takeSelection);
    quote.addEventListener("input", () => {
      startInput.value = "";
      endInput.value = "";
    });
  }
  anchors.forEach((anchor) => {
    const tools = anchor.el.querySelector("[data-anchor-tools]");
    if (!tools) return;
    tools.hidden = false;
    tools.querySelector("[data-show-anchor]").addEventListener("click", () => {
      const range = anchoredRange(editor.state, doc, anchor);
      if (!range) return;
      editor.commands.setTextSelection(range);
      const marked = mount.querySelector('[data-comment="' + anchor.id + '"]');
      if (marked) marked.scrollIntoView({ block: "center" });
    });
  });

  // The live editor replaces the text box; the box (and Save) stay for no-JS browsers.
  root.hidden = false;
  if (form) {
    // Removed, not hidden: one "Text" box and one counter on the page.
    form.querySelectorAll(".field, .counter").forEach((el) => el.remove());
    form.querySelectorAll(".actions, [data-status]").forEach((el) => (el.hidden = true));
    root.querySelector("[data-live-counter]").id = "counter";
  }
  const preview = document.querySelector("[data-preview]");
  if (preview) preview.closest("section").hidden = true;
}

const root = document.querySelector("[data-live]");
if (root && "WebSocket" in window) {
  const form = document.querySelector("form[data-editor]");
  if (form) form.setAttribute("data-live-on", "1"); // editor.js leaves the page to us
  start(root);
}
