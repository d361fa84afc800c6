//===- Engine.cpp - encode documents, route and answer questions ----------===//
//
// Part of msa. Licensed under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "msa/runtime/Engine.h"

#include "msa/runtime/Prompt.h"

#include "msa/runtime/Random.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace msa::runtime {

int32_t argmax(const std::vector<float> &logits) {
  return static_cast<int32_t>(
      std::max_element(logits.begin(), logits.end()) - logits.begin());
}

int32_t sampleToken(const std::vector<float> &logits, double temperature,
                    double topP, double u) {
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  double top = logits[order[0]], total = 0;
  std::vector<double> p(order.size());
  for (size_t i = 0; i < order.size(); ++i)
    total += p[i] = std::exp((logits[order[i]] - top) / temperature);
  // The nucleus: the most probable tokens up to a cumulative topP.
  size_t keep = 0;
  double mass = 0;
  while (keep < order.size() && (keep == 0 || mass < topP * total))
    mass += p[keep++];
  double target = u * mass, acc = 0;
  for (size_t i = 0; i < keep; ++i) {
    acc += p[i];
    if (target < acc)
      return order[i];
  }
  return order[keep - 1];
}

StatusOr<std::unique_ptr<Engine>> Engine::open(const std::string &modelDir,
                                               const EngineOptions &options) {
  std::unique_ptr<Engine> e(new Engine());
  e->options_ = options;
  MSA_ASSIGN_OR_RETURN(e->checkpoint_, Checkpoint::open(modelDir));
  MSA_ASSIGN_OR_RETURN(e->tokenizer_,
                       Tokenizer::load(e->checkpoint_->tokenizerPath()));
  const ModelConfig &c = e->checkpoint_->config();
  if (e->tokenizer_->vocabSize() > c.vocabSize)
    return invalidArgument(e->checkpoint_->tokenizerPath() + ": " +
                           std::to_string(e->tokenizer_->vocabSize()) +
                           " tokens, more than the model's vocab_size " +
                           std::to_string(c.vocabSize));
  if (options.backend == "reference") {
    MSA_ASSIGN_OR_RETURN(e->backend_, makeReferenceBackend(*e->checkpoint_));
  } else if (options.backend == "cpu" || options.backend == "cuda" ||
             options.backend == "compiled") {
    if (options.bundle.empty())
      return invalidArgument("the " + options.backend +
                             " backend needs a compiled bundle (msa-compile "
                             "--model DIR --target T -o FILE; --bundle FILE)");
    e->pool_ = std::make_unique<ThreadPool>(options.threads);
    MSA_ASSIGN_OR_RETURN(e->backend_, makeCompiledBackend(options.bundle,
                                                          *e->checkpoint_,
                                                          *e->pool_));
    if (options.backend != "compiled" &&
        options.backend != e->backend_->name())
      return invalidArgument(options.bundle + ": compiled for " +
                             e->backend_->name() + ", not for the " +
                             options.backend + " backend (--backend " +
                             e->backend_->name() + ")");
  } else {
    return invalidArgument("unknown backend '" + options.backend +
                           "' (backends: reference, cpu, cuda)");
  }
  MSA_ASSIGN_OR_RETURN(e->fingerprint_, modelFingerprint(*e->checkpoint_));
  e->eosIds_.assign(c.eosTokenIds.begin(), c.eosTokenIds.end());
  for (const char *s : {kImEnd, kEndOfText})
    if (std::optional<int32_t> id = e->tokenizer_->tokenId(s))
      e->eosIds_.push_back(*id);
  return e;
}

std::vector<int32_t> Engine::documentTokens(int64_t index,
                                            const std::string &text) const {
  return tokenizer_->encode(documentText(index, text));
}

StatusOr<std::vector<std::vector<int32_t>>>
Engine::tokenizeDocuments(const std::vector<Document> &docs,
                          int64_t firstId) const {
  std::vector<std::vector<int32_t>> ids;
  for (size_t j = 0; j < docs.size(); ++j) {
    int64_t id = firstId + static_cast<int64_t>(j);
    ids.push_back(documentTokens(id, docs[j].text));
    if (static_cast<int64_t>(ids.back().size()) > config().maxPositionEmbeddings)
      return invalidArgument(
          "document " + std::to_string(id) +
          (docs[j].id.empty() ? "" : " (id '" + docs[j].id + "')") + " has " +
          std::to_string(ids.back().size()) +
          " tokens, more than max_position_embeddings " +
          std::to_string(config().maxPositionEmbeddings));
  }
  return ids;
}

Status Engine::encodeBlocks(
    const std::vector<std::vector<int32_t>> &ids,
    const std::function<Status(size_t, size_t, const PooledMemory &)> &sink) {
  std::vector<int32_t> head = templateHead(*tokenizer_);
  // Consecutive documents until one more would exceed the block budget; a
  // larger document forms its own block (spec §3.1).
  const int64_t P = config().msa.poolingKernelSize;
  size_t first = 0;
  int64_t blockTotal = 0;
  std::vector<std::vector<int32_t>> block;
  auto flush = [&](size_t end) -> Status {
    if (block.empty())
      return Status::ok();
    MSA_ASSIGN_OR_RETURN(PooledMemory part, backend_->encodeBlock(head, block));
    MSA_RETURN_IF_ERROR(sink(first, end, part));
    block.clear();
    blockTotal = 0;
    first = end;
    return Status::ok();
  };
  for (size_t j = 0; j < ids.size(); ++j) {
    int64_t chunks = (static_cast<int64_t>(ids[j].size()) + P - 1) / P;
    if (!block.empty() && blockTotal + chunks > options_.blockChunks)
      MSA_RETURN_IF_ERROR(flush(j));
    block.push_back(ids[j]);
    blockTotal += chunks;
  }
  return flush(ids.size());
}

StatusOr<PooledMemory> Engine::encode(const std::vector<Document> &docs) {
  if (docs.empty())
    return invalidArgument("the corpus holds no documents");
  MSA_ASSIGN_OR_RETURN(std::vector<std::vector<int32_t>> ids,
                       tokenizeDocuments(docs, 0));
  MSA_ASSIGN_OR_RETURN(PooledMemory memory,
                       backend_->encodeTemplate(templateHead(*tokenizer_)));
  MSA_RETURN_IF_ERROR(
      encodeBlocks(ids, [&](size_t, size_t, const PooledMemory &part) {
        memory.append(part);
        return Status::ok();
      }));
  return memory;
}

StatusOr<EncodeReport> Engine::encodeToBank(const std::vector<Document> &docs,
                                            const std::string &bankDir,
                                            bool append,
                                            const ProgressFn &progress) {
  auto t0 = std::chrono::steady_clock::now();
  if (docs.empty())
    return invalidArgument("the corpus holds no documents");
  bool exists = fileExists(joinPath(bankDir, "bank.json"));
  std::unique_ptr<MemoryBank> bank;
  if (exists) {
    MSA_ASSIGN_OR_RETURN(bank, MemoryBank::open(bankDir, fingerprint_));
  } else if (append) {
    return notFound(bankDir + ": no memory bank to append to");
  }

  // Which documents are new: after the bank's when appending; when
  // continuing, the corpus must begin with what the bank holds.
  EncodeReport report;
  size_t firstNew = 0;
  if (exists && !append) {
    const std::vector<BankDocument> &held = bank->documents();
    if (held.size() > docs.size())
      return failedPrecondition(
          bankDir + ": holds " + std::to_string(held.size()) +
          " documents, more than this corpus has (" +
          std::to_string(docs.size()) + "); use --append to add documents");
    for (size_t j = 0; j < held.size(); ++j)
      if (held[j].text != docs[j].text || held[j].id != docs[j].id)
        return failedPrecondition(
            bankDir + ": document " + std::to_string(j) +
            " of the bank differs from the corpus's; use --append to add "
            "documents, or a new bank for another corpus");
    firstNew = held.size();
    report.skippedDocs = static_cast<int64_t>(held.size());
  }
  std::vector<Document> fresh(docs.begin() + static_cast<long>(firstNew),
                              docs.end());
  const int64_t firstId = bank ? bank->numDocs() : 0;
  MSA_ASSIGN_OR_RETURN(std::vector<std::vector<int32_t>> ids,
                       tokenizeDocuments(fresh, firstId));
  // Created only once every document is known to fit, so a rejected corpus
  // leaves nothing behind.
  if (!bank) {
    MSA_ASSIGN_OR_RETURN(bank,
                         MemoryBank::create(bankDir, fingerprint_, config()));
  }
  if (!bank->hasTemplate()) {
    MSA_ASSIGN_OR_RETURN(PooledMemory tpl,
                         backend_->encodeTemplate(templateHead(*tokenizer_)));
    MSA_RETURN_IF_ERROR(bank->writeTemplate(tpl));
  }

  EncodeProgress pr;
  pr.docsTotal = static_cast<int64_t>(fresh.size());
  for (const std::vector<int32_t> &d : ids)
    pr.tokensTotal += static_cast<int64_t>(d.size());
  const int64_t P = config().msa.poolingKernelSize;
  MSA_RETURN_IF_ERROR(encodeBlocks(
      ids, [&](size_t begin, size_t end, const PooledMemory &part) -> Status {
        std::vector<BankDocument> block;
        for (size_t j = begin; j < end; ++j) {
          BankDocument d;
          d.id = fresh[j].id;
          d.text = fresh[j].text;
          d.tokens = static_cast<int64_t>(ids[j].size());
          d.chunks = (d.tokens + P - 1) / P;
          pr.tokensDone += d.tokens;
          block.push_back(std::move(d));
        }
        MSA_RETURN_IF_ERROR(bank->appendSegment(block, part));
        pr.docsDone = static_cast<int64_t>(end);
        pr.seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - t0)
                         .count();
        report.newChunks += part.numChunks;
        if (progress)
          progress(pr);
        return Status::ok();
      }));
  report.newDocs = pr.docsDone;
  report.newTokens = pr.tokensDone;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  return report;
}

StatusOr<PooledMemory> Engine::loadBank(const std::string &bankDir,
                                        std::vector<BankDocument> *documents) {
  MSA_ASSIGN_OR_RETURN(std::unique_ptr<MemoryBank> bank,
                       MemoryBank::open(bankDir, fingerprint_));
  if (documents)
    *documents = bank->documents();
  return bank->load();
}

StatusOr<Answer> Engine::ask(const PooledMemory &memory,
                             const std::string &question,
                             const GenerationOptions &generation) {
  const int64_t maxNewTokens = generation.maxNewTokens;
  Rng rng(generation.seed);
  PromptRow row = questionRow(*tokenizer_, question);
  MSA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                       backend_->prefill(memory, row));
  Answer a;
  a.selected = session->selected;
  a.docScores = session->docScores;
  for (int64_t i = 0; i < maxNewTokens; ++i) {
    int32_t next =
        i < static_cast<int64_t>(generation.forcedTokens.size())
            ? generation.forcedTokens[static_cast<size_t>(i)]
        : generation.temperature <= 0.0
            ? argmax(session->logits)
            : sampleToken(session->logits, generation.temperature,
                          generation.topP, rng.uniform());
    if (std::find(eosIds_.begin(), eosIds_.end(), next) != eosIds_.end()) {
      a.stoppedAtEos = true;
      break;
    }
    a.tokens.push_back(next);
    if (i + 1 < maxNewTokens)
      MSA_RETURN_IF_ERROR(backend_->decode(memory, *session, {next}, {1}));
  }
  a.text = tokenizer_->decode(a.tokens);
  return a;
}

} // namespace msa::runtime
