//===- MemoryBank.cpp - the persisted result of stage 1 -------------------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/MemoryBank.h"

#include "msa/runtime/ArtifactFormat.h"
#include "msa/runtime/Json.h"
#include "msa/runtime/reference/Weights.h"

#include <dirent.h>

#include <cstdio>
#include <cstring>

namespace msa::runtime {

using artifact::crc32c;

namespace {

constexpr const char *kHeaderFile = "bank.json";
constexpr const char *kTemplateFile = "template.bin";
constexpr const char *kDocsFile = "docs.jsonl";
/// Bytes sampled from the start, middle and end of each tensor for the
/// fingerprint: enough to tell two models apart without reading 8 GB.
constexpr size_t kFingerprintSample = 64 * 1024;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", v);
  return buf;
}

std::string segmentName(size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg-%06zu", index);
  return buf;
}

std::string layerFile(int64_t layer, const char *what) {
  return "layer-" + std::to_string(layer) + "." + what + ".bin";
}

Status writeBytes(const std::string &path, const void *data, size_t size,
                  uint32_t &crc) {
  crc = crc32c(data, size);
  return writeFileAtomic(
      path, std::string_view(static_cast<const char *>(data), size));
}

} // namespace

StatusOr<std::string> modelFingerprint(const Checkpoint &checkpoint) {
  const ModelConfig &c = checkpoint.config();
  std::string config = c.toJson().dump();
  uint32_t cfg = crc32c(config.data(), config.size());
  uint32_t w = 0;
  for (const ref::WeightSpec &spec : ref::checkpointLayout(c)) {
    MSA_ASSIGN_OR_RETURN(Tensor t, checkpoint.view(spec.name, spec.shape));
    w = crc32c(spec.name.data(), spec.name.size(), w);
    const uint8_t *p = t.as<uint8_t>();
    size_t n = t.bytes();
    auto sample = [&](size_t off) {
      size_t len = std::min(kFingerprintSample, n - off);
      w = crc32c(p + off, len, w);
    };
    sample(0);
    if (n > 2 * kFingerprintSample) {
      sample(n / 2);
      sample(n - kFingerprintSample);
    }
  }
  return hex32(cfg) + "-" + hex32(w);
}

int64_t MemoryBank::payloadBytes() const {
  int64_t perTensor = config_.numKvHeads * config_.headDim *
                      static_cast<int64_t>(dtypeSize(config_.dtype)) *
                      numChunks_ * config_.numRouterLayers();
  return perTensor * (config_.hasRouterKeys() ? 3 : 2);
}

StatusOr<std::unique_ptr<MemoryBank>>
MemoryBank::create(const std::string &dir, const std::string &fingerprint,
                   const ModelConfig &config) {
  if (fileExists(dir)) {
    DIR *d = opendir(dir.c_str());
    if (!d)
      return invalidArgument(dir + ": exists and is not a directory");
    bool empty = true;
    while (dirent *e = readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        empty = false;
    closedir(d);
    if (!empty)
      return invalidArgument(dir + ": exists and is not an empty directory");
  }
  MSA_RETURN_IF_ERROR(makeDirectories(dir));
  std::unique_ptr<MemoryBank> b(new MemoryBank());
  b->dir_ = dir;
  b->fingerprint_ = fingerprint;
  b->config_ = config;
  MSA_RETURN_IF_ERROR(b->writeHeader());
  return b;
}

Status MemoryBank::writeHeader() const {
  JsonValue h = JsonValue::object();
  h.set("format", "msa-bank");
  h.set("version", kFormatVersion);
  h.set("fingerprint", fingerprint_);
  h.set("model", config_.toJson());
  if (hasTemplate_) {
    JsonValue t = JsonValue::object();
    t.set("length", templateLen_);
    t.set("crc32c", static_cast<int64_t>(templateCrc_));
    h.set("template", std::move(t));
  } else {
    h.set("template", JsonValue());
  }
  h.set("documents", numDocs());
  h.set("chunks", numChunks_);
  JsonValue segs = JsonValue::array();
  for (const Segment &s : segments_) {
    JsonValue j = JsonValue::object();
    j.set("name", s.name);
    j.set("first_doc", s.firstDoc);
    j.set("docs", s.docs);
    j.set("first_chunk", s.firstChunk);
    j.set("chunks", s.chunks);
    JsonValue files = JsonValue::object();
    for (const auto &[name, crc] : s.files)
      files.set(name, static_cast<int64_t>(crc));
    j.set("files", std::move(files));
    segs.push(std::move(j));
  }
  h.set("segments", std::move(segs));
  return writeFileAtomic(path(kHeaderFile), h.dump(1) + "\n");
}

Status MemoryBank::writeTemplate(const PooledMemory &memory) {
  if (hasTemplate_)
    return failedPrecondition(dir_ + ": the template is already stored");
  std::string bytes;
  for (size_t l = 0; l < memory.templateKeys.size(); ++l)
    for (const Tensor *t : {&memory.templateKeys[l], &memory.templateValues[l]})
      bytes.append(t->as<char>(), t->bytes());
  MSA_RETURN_IF_ERROR(
      writeBytes(path(kTemplateFile), bytes.data(), bytes.size(), templateCrc_));
  templateLen_ = memory.templateLen;
  hasTemplate_ = true;
  return writeHeader();
}

Status MemoryBank::appendSegment(const std::vector<BankDocument> &docs,
                                 const PooledMemory &memory) {
  if (!hasTemplate_)
    return failedPrecondition(dir_ + ": store the template before documents");
  Segment seg;
  seg.name = segmentName(segments_.size());
  seg.firstDoc = numDocs();
  seg.docs = static_cast<int64_t>(docs.size());
  seg.firstChunk = numChunks_;
  seg.chunks = memory.numChunks;
  // Written beside its final name, then renamed: a killed encode leaves at
  // most a .tmp directory, which open() removes.
  std::string tmp = path(seg.name + ".tmp");
  MSA_RETURN_IF_ERROR(removeTree(tmp));
  MSA_RETURN_IF_ERROR(makeDirectories(tmp));
  std::string lines;
  for (const BankDocument &d : docs) {
    JsonValue j = JsonValue::object();
    j.set("id", d.id);
    j.set("tokens", d.tokens);
    j.set("chunks", d.chunks);
    j.set("text", d.text);
    lines += j.dump() + "\n";
  }
  uint32_t crc;
  MSA_RETURN_IF_ERROR(
      writeBytes(joinPath(tmp, kDocsFile), lines.data(), lines.size(), crc));
  seg.files.push_back({kDocsFile, crc});
  for (size_t r = 0; r < config_.msa.routerLayers.size(); ++r) {
    int64_t layer = config_.msa.routerLayers[r];
    std::vector<std::pair<const char *, const Tensor *>> parts{
        {"keys", &memory.keys[r]}, {"values", &memory.values[r]}};
    if (config_.hasRouterKeys())
      parts.push_back({"router_keys", &memory.routerKeys[r]});
    for (auto [what, t] : parts) {
      std::string name = layerFile(layer, what);
      MSA_RETURN_IF_ERROR(
          writeBytes(joinPath(tmp, name), t->data, t->bytes(), crc));
      seg.files.push_back({name, crc});
    }
  }
  // A kill between the rename below and the header rewrite leaves a segment
  // the header does not list; it is stale, and would block the rename.
  std::string final = path(seg.name);
  MSA_RETURN_IF_ERROR(removeTree(final));
  if (std::rename(tmp.c_str(), final.c_str()) != 0)
    return ioError(final + ": cannot rename the new segment into place: " +
                   std::strerror(errno));
  segments_.push_back(seg);
  docs_.insert(docs_.end(), docs.begin(), docs.end());
  numChunks_ += memory.numChunks;
  return writeHeader();
}

StatusOr<std::unique_ptr<MemoryBank>>
MemoryBank::open(const std::string &dir, const std::string &fingerprint) {
  if (!isDirectory(dir))
    return notFound(dir + ": no memory bank here (not a directory)");
  std::string headerPath = joinPath(dir, kHeaderFile);
  if (!fileExists(headerPath))
    return notFound(dir + ": no memory bank here (" + kHeaderFile +
                    " is missing)");
  MSA_ASSIGN_OR_RETURN(std::string text, readFile(headerPath));
  StatusOr<JsonValue> parsed = JsonValue::parse(text);
  if (!parsed.isOk())
    return dataLoss(headerPath + ": " + parsed.status().message());
  const JsonValue &h = *parsed;
  auto bad = [&](const std::string &what) {
    return dataLoss(headerPath + ": " + what);
  };
  const JsonValue *format = h.find("format"), *version = h.find("version");
  if (!format || !format->isString() || format->asString() != "msa-bank")
    return bad("not an msa memory bank header");
  if (!version || !version->isInteger() || version->asInt() != kFormatVersion)
    return bad("bank format version " +
               (version ? version->dump() : std::string("(none)")) +
               ", this runtime reads version " +
               std::to_string(kFormatVersion));

  std::unique_ptr<MemoryBank> b(new MemoryBank());
  b->dir_ = dir;
  const JsonValue *fp = h.find("fingerprint");
  if (!fp || !fp->isString())
    return bad("key 'fingerprint' is missing");
  b->fingerprint_ = fp->asString();
  if (!fingerprint.empty() && fingerprint != b->fingerprint_)
    return failedPrecondition(dir + ": made by another model (bank "
                                    "fingerprint " +
                              b->fingerprint_ + ", this model's " +
                              fingerprint + ")");
  const JsonValue *model = h.find("model");
  if (!model)
    return bad("key 'model' is missing");
  StatusOr<ModelConfig> config = ModelConfig::fromJson(*model, headerPath);
  if (!config.isOk())
    return dataLoss(config.status().message());
  b->config_ = *config;

  // Leftovers of an encode killed mid-segment are not part of the bank.
  if (DIR *d = opendir(dir.c_str())) {
    std::vector<std::string> stale;
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0)
        stale.push_back(n);
    }
    closedir(d);
    for (const std::string &n : stale)
      MSA_RETURN_IF_ERROR(removeTree(joinPath(dir, n)));
  }

  const int64_t elem = static_cast<int64_t>(dtypeSize(b->config_.dtype));
  const int64_t hk = b->config_.numKvHeads, hd = b->config_.headDim;
  auto checkFile = [&](const std::string &p, int64_t size,
                       uint32_t crc) -> Status {
    MSA_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> f, MappedFile::open(p));
    if (size >= 0 && static_cast<int64_t>(f->size()) != size)
      return dataLoss(p + ": " + std::to_string(f->size()) + " bytes, the "
                                                             "bank header says " +
                      std::to_string(size) + " (the bank is corrupted)");
    uint32_t got = crc32c(f->data(), f->size());
    if (got != crc)
      return dataLoss(p + ": checksum mismatch (stored " + hex32(crc) +
                      ", computed " + hex32(got) + "): the bank is corrupted");
    return Status::ok();
  };

  if (const JsonValue *t = h.find("template"); t && t->isObject()) {
    const JsonValue *len = t->find("length"), *crc = t->find("crc32c");
    if (!len || !len->isInteger() || !crc || !crc->isInteger())
      return bad("key 'template' needs 'length' and 'crc32c'");
    b->templateLen_ = len->asInt();
    b->templateCrc_ = static_cast<uint32_t>(crc->asInt());
    b->hasTemplate_ = true;
    MSA_RETURN_IF_ERROR(checkFile(joinPath(dir, kTemplateFile),
                                  2 * b->config_.numLayers * b->templateLen_ *
                                      hk * hd * elem,
                                  b->templateCrc_));
  }

  const JsonValue *segs = h.find("segments");
  if (!segs || !segs->isArray())
    return bad("key 'segments' is missing");
  for (size_t i = 0; i < segs->elements().size(); ++i) {
    const JsonValue &j = segs->elements()[i];
    std::string at = "segments[" + std::to_string(i) + "]";
    Segment s;
    const JsonValue *name = j.find("name"), *files = j.find("files");
    auto integer = [&](const char *k, int64_t &out) {
      const JsonValue *v = j.find(k);
      if (!v || !v->isInteger() || v->asInt() < 0)
        return false;
      out = v->asInt();
      return true;
    };
    if (!name || !name->isString() || !files || !files->isObject() ||
        !integer("first_doc", s.firstDoc) || !integer("docs", s.docs) ||
        !integer("first_chunk", s.firstChunk) || !integer("chunks", s.chunks))
      return bad(at + ": malformed segment entry");
    s.name = name->asString();
    if (s.firstDoc != b->numDocs() || s.firstChunk != b->numChunks_)
      return bad(at + ": does not continue the previous segment");
    for (const JsonValue::Member &m : files->members()) {
      if (!m.second.isInteger())
        return bad(at + ": checksum of '" + m.first + "' is not an integer");
      s.files.push_back({m.first, static_cast<uint32_t>(m.second.asInt())});
    }
    std::string segDir = joinPath(dir, s.name);
    for (const auto &[file, crc] : s.files) {
      int64_t size = file == kDocsFile ? -1 : hk * s.chunks * hd * elem;
      MSA_RETURN_IF_ERROR(checkFile(joinPath(segDir, file), size, crc));
    }
    // Every router layer's files must be present.
    for (int64_t layer : b->config_.msa.routerLayers)
      for (const char *what : {"keys", "values", "router_keys"}) {
        if (std::string(what) == "router_keys" && !b->config_.hasRouterKeys())
          continue;
        std::string f = layerFile(layer, what);
        bool listed = false;
        for (const auto &entry : s.files)
          listed |= entry.first == f;
        if (!listed)
          return bad(at + ": file '" + f + "' is missing");
      }
    MSA_ASSIGN_OR_RETURN(std::string docText,
                         readFile(joinPath(segDir, kDocsFile)));
    int64_t chunks = 0, count = 0;
    size_t start = 0;
    while (start < docText.size()) {
      size_t end = docText.find('\n', start);
      if (end == std::string::npos)
        end = docText.size();
      StatusOr<JsonValue> line = JsonValue::parse(
          std::string_view(docText).substr(start, end - start));
      start = end + 1;
      if (!line.isOk())
        return dataLoss(joinPath(segDir, kDocsFile) + ": " +
                        line.status().message());
      BankDocument d;
      const JsonValue *id = line->find("id"), *txt = line->find("text");
      const JsonValue *tk = line->find("tokens"), *ch = line->find("chunks");
      if (!id || !id->isString() || !txt || !txt->isString() || !tk ||
          !tk->isInteger() || !ch || !ch->isInteger())
        return dataLoss(joinPath(segDir, kDocsFile) + ": malformed document");
      d.id = id->asString();
      d.text = txt->asString();
      d.tokens = tk->asInt();
      d.chunks = ch->asInt();
      chunks += d.chunks;
      ++count;
      b->docs_.push_back(std::move(d));
    }
    if (count != s.docs || chunks != s.chunks)
      return bad(at + ": holds " + std::to_string(count) + " documents of " +
                 std::to_string(chunks) + " chunks, the header says " +
                 std::to_string(s.docs) + " of " + std::to_string(s.chunks));
    b->numChunks_ += s.chunks;
    b->segments_.push_back(std::move(s));
  }
  const JsonValue *docs = h.find("documents"), *chunks = h.find("chunks");
  if (!docs || !docs->isInteger() || docs->asInt() != b->numDocs() || !chunks ||
      !chunks->isInteger() || chunks->asInt() != b->numChunks_)
    return bad("document or chunk count disagrees with the segments");
  return b;
}

StatusOr<PooledMemory> MemoryBank::load() const {
  if (!hasTemplate_)
    return failedPrecondition(dir_ + ": the bank holds no template yet");
  const DType dtype = config_.dtype;
  const int64_t elem = static_cast<int64_t>(dtypeSize(dtype));
  const int64_t hk = config_.numKvHeads, hd = config_.headDim;
  PooledMemory m;
  m.templateLen = templateLen_;
  MSA_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> tpl,
                       MappedFile::open(path(kTemplateFile)));
  const int64_t tplBytes = templateLen_ * hk * hd * elem;
  for (int64_t l = 0; l < config_.numLayers; ++l)
    for (int kv = 0; kv < 2; ++kv) {
      Tensor t = Tensor::view(
          dtype, {templateLen_, hk, hd},
          const_cast<uint8_t *>(tpl->data()) + (2 * l + kv) * tplBytes);
      t.owner = tpl;
      (kv ? m.templateValues : m.templateKeys).push_back(std::move(t));
    }
  for (const BankDocument &d : docs_)
    m.docChunkOffsets.push_back(m.docChunkOffsets.back() +
                                static_cast<int32_t>(d.chunks));
  m.numChunks = numChunks_;
  for (int64_t layer : config_.msa.routerLayers) {
    std::vector<std::pair<const char *, std::vector<Tensor> *>> parts{
        {"keys", &m.keys}, {"values", &m.values}};
    if (config_.hasRouterKeys())
      parts.push_back({"router_keys", &m.routerKeys});
    else
      m.routerKeys.push_back(Tensor());
    for (auto [what, out] : parts) {
      // Head-major per segment: each head's chunks of every segment are
      // laid end to end.
      Tensor t = Tensor::allocate(dtype, {hk, numChunks_, hd});
      for (const Segment &s : segments_) {
        MSA_ASSIGN_OR_RETURN(
            std::unique_ptr<MappedFile> f,
            MappedFile::open(joinPath(path(s.name), layerFile(layer, what))));
        for (int64_t h = 0; h < hk; ++h)
          std::memcpy(t.as<uint8_t>() + (h * numChunks_ + s.firstChunk) * hd * elem,
                      f->data() + h * s.chunks * hd * elem,
                      static_cast<size_t>(s.chunks * hd * elem));
      }
      out->push_back(std::move(t));
    }
  }
  return m;
}

std::string MemoryBank::summary() const {
  std::string layers;
  for (int64_t l : config_.msa.routerLayers)
    layers += (layers.empty() ? "" : ",") + std::to_string(l);
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "memory bank: %s\nmodel fingerprint: %s\ndocuments: %lld, "
                "chunks: %lld (P=%lld), segments: %lld\nrouter layers: %s; "
                "%lld kv heads x %lld, %s; template %lld tokens\npooled memory: "
                "%.2f MB (%s)\n",
                dir_.c_str(), fingerprint_.c_str(), (long long)numDocs(),
                (long long)numChunks_, (long long)config_.msa.poolingKernelSize,
                (long long)numSegments(), layers.c_str(),
                (long long)config_.numKvHeads, (long long)config_.headDim,
                dtypeName(config_.dtype), (long long)templateLen_,
                payloadBytes() / 1e6,
                config_.hasRouterKeys() ? "K̄ᴿ, K̄, V̄" : "K̄, V̄");
  return buf;
}

} // namespace msa::runtime
