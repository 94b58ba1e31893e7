/* onnxmeta.js: read an ONNX model's metadata_props from the file's bytes. No dependencies.
 *
 * onnxruntime-web and onnxruntime-node sessions do not expose a model's metadata, so this walks
 * the protobuf of the ModelProto itself: top-level field 14 (metadata_props) is a repeated
 * StringStringEntryProto {key = 1, value = 2}. Every other field (the graph with its weights
 * too) is skipped by its length, so the walk takes about a millisecond for a model of many
 * megabytes. Bytes that are not a well-formed protobuf raise an Error that says so.
 *
 *   readMetadataProps(bytes)        -> {key: value, ...}   (bytes: Uint8Array or ArrayBuffer)
 *   readLatentOdyssey(bytes)        -> the JSON object under "latent_odyssey", parsed
 *
 * Browser: <script src="onnxmeta.js"></script> defines window.onnxMeta.
 * Node:    const { readMetadataProps } = require("./onnxmeta.js");
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.onnxMeta = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const METADATA_KEY = "latent_odyssey";
  const MODEL_METADATA_PROPS = 14; // ModelProto.metadata_props
  const ENTRY_KEY = 1; // StringStringEntryProto.key
  const ENTRY_VALUE = 2; // StringStringEntryProto.value
  const WIRE_VARINT = 0;
  const WIRE_FIXED64 = 1;
  const WIRE_LENGTH = 2;
  const WIRE_FIXED32 = 5;
  const MAX_VARINT_BYTES = 10;

  const utf8 = new TextDecoder("utf-8", { fatal: true });

  function asBytes(input) {
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("onnxmeta: expected a Uint8Array or an ArrayBuffer of an .onnx file");
  }

  /* Call visit(field, wireType, start, end) for each field of the message in bytes[start, end);
   * for length-delimited fields [start, end) is the payload, else it is empty. */
  function walk(bytes, start, end, visit) {
    let pos = start;
    function varint() {
      let value = 0;
      let scale = 1;
      for (let i = 0; i < MAX_VARINT_BYTES; i++) {
        if (pos >= end) throw new Error("onnxmeta: the protobuf ends inside a number (not an ONNX file?)");
        const b = bytes[pos++];
        value += (b & 0x7f) * scale; // multiplication, not shifts: lengths may pass 2^31
        if (b < 0x80) return value;
        scale *= 128;
      }
      throw new Error("onnxmeta: a protobuf number is longer than 10 bytes (not an ONNX file?)");
    }
    while (pos < end) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field === 0) throw new Error("onnxmeta: field number 0 (not an ONNX file?)");
      if (wire === WIRE_VARINT) {
        varint();
        visit(field, wire, pos, pos);
      } else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
        pos += wire === WIRE_FIXED64 ? 8 : 4;
        if (pos > end) throw new Error("onnxmeta: the protobuf ends inside a fixed-size field (truncated file?)");
        visit(field, wire, pos, pos);
      } else if (wire === WIRE_LENGTH) {
        const length = varint();
        if (pos + length > end) throw new Error("onnxmeta: a field runs past the end of the file (truncated file?)");
        visit(field, wire, pos, pos + length);
        pos += length;
      } else {
        throw new Error("onnxmeta: protobuf wire type " + wire + " is not used by ONNX (not an ONNX file?)");
      }
    }
  }

  function readMetadataProps(input) {
    const bytes = asBytes(input);
    const props = {};
    walk(bytes, 0, bytes.length, function (field, wire, start, end) {
      if (field !== MODEL_METADATA_PROPS || wire !== WIRE_LENGTH) return;
      let key = "";
      let value = "";
      walk(bytes, start, end, function (f, w, s, e) {
        if (w !== WIRE_LENGTH) return;
        if (f === ENTRY_KEY) key = utf8.decode(bytes.subarray(s, e));
        else if (f === ENTRY_VALUE) value = utf8.decode(bytes.subarray(s, e));
      });
      props[key] = value;
    });
    return props;
  }

  function readLatentOdyssey(input) {
    const props = readMetadataProps(input);
    if (!(METADATA_KEY in props)) {
      throw new Error("onnxmeta: the model has no \"" + METADATA_KEY + "\" metadata (not made by odyssey-export?)");
    }
    return JSON.parse(props[METADATA_KEY]);
  }

  return { readMetadataProps: readMetadataProps, readLatentOdyssey: readLatentOdyssey, METADATA_KEY: METADATA_KEY };
});
