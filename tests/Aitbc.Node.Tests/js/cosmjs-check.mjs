// Drives an aitbc-node with the real @cosmjs/tendermint-rpc client (connectComet), as a dApp would.
//
//   node cosmjs-check.mjs <rpc-url> <account-address> <sync-tx-base64> <commit-tx-base64>
//
// (or AITBC_RPC_URL, AITBC_ACCOUNT, AITBC_SYNC_TX, AITBC_COMMIT_TX in the environment). The two txs are
// signed transfers; the sync one is sent with broadcastTxSync, the other with broadcastTxCommit. Every
// answer is decoded by cosmjs (which rejects shapes it does not know) and checked here. Prints a JSON
// summary on stdout and exits 0, or prints the failure on stderr and exits 1.
import { createHash } from "node:crypto";
import { connectComet } from "@cosmjs/tendermint-rpc";

const [argUrl, argAccount, argSyncTx, argCommitTx] = process.argv.slice(2);
const url = argUrl ?? process.env.AITBC_RPC_URL;
const account = argAccount ?? process.env.AITBC_ACCOUNT;
const syncTxB64 = argSyncTx ?? process.env.AITBC_SYNC_TX;
const commitTxB64 = argCommitTx ?? process.env.AITBC_COMMIT_TX;
if (!url || !account || !syncTxB64 || !commitTxB64) {
  console.error("usage: node cosmjs-check.mjs <rpc-url> <account-address> <sync-tx-base64> <commit-tx-base64>");
  process.exit(2);
}

const hex = (bytes) => Buffer.from(bytes).toString("hex").toUpperCase();
const sha256 = (bytes) => new Uint8Array(createHash("sha256").update(bytes).digest());
const fromB64 = (text) => new Uint8Array(Buffer.from(text, "base64"));
const sameBytes = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}
const step = async (name, action) => {
  try {
    return await action();
  } catch (e) {
    e.message = `${name}: ${e.message}`;
    throw e;
  }
};

async function main() {
  const syncTx = fromB64(syncTxB64);
  const commitTx = fromB64(commitTxB64);
  const summary = {};

  const client = await step("connectComet", () => connectComet(url));
  summary.client = client.constructor.name;
  check(summary.client === "Comet38Client", `connectComet picked ${summary.client}, expected Comet38Client`);

  const status = await step("status", () => client.status());
  check(status.nodeInfo.version.startsWith("0.38."), `node_info.version ${status.nodeInfo.version}`);
  check(status.nodeInfo.network.length > 0, "network empty");
  check(status.syncInfo.latestBlockHash.length > 0, "latest_block_hash empty");
  check(status.syncInfo.latestAppHash.length > 0, "latest_app_hash empty");
  check(status.validatorInfo.pubkey.algorithm === "ed25519", "validator pub_key not ed25519");
  summary.status = {
    network: status.nodeInfo.network,
    version: status.nodeInfo.version,
    height: status.syncInfo.latestBlockHeight,
    catchingUp: status.syncInfo.catchingUp,
  };

  const sync = await step("broadcastTxSync", () => client.broadcastTxSync({ tx: syncTx }));
  check(sync.code === 0, `broadcastTxSync code ${sync.code}: ${sync.log}`);
  check(sync.hash.length === 32, "broadcastTxSync hash empty");
  check(sameBytes(sync.hash, sha256(syncTx)), "broadcastTxSync hash is not SHA-256 of the tx");
  summary.sync = { hash: hex(sync.hash), code: sync.code };

  const commit = await step("broadcastTxCommit", () => client.broadcastTxCommit({ tx: commitTx }));
  check(commit.checkTx.code === 0, `checkTx code ${commit.checkTx.code}: ${commit.checkTx.log}`);
  check(commit.txResult !== undefined && commit.txResult.code === 0, `txResult code ${commit.txResult?.code}: ${commit.txResult?.log}`);
  check(commit.height > 0, `commit height ${commit.height}`);
  check(sameBytes(commit.hash, sha256(commitTx)), "broadcastTxCommit hash is not SHA-256 of the tx");
  summary.commit = { hash: hex(commit.hash), height: commit.height, checkCode: commit.checkTx.code, txCode: commit.txResult.code,
    events: commit.txResult.events.map((e) => e.type) };

  const block = await step("block", () => client.block(commit.height));
  check(block.block.header.height === commit.height, `block height ${block.block.header.height}`);
  check(block.blockId.hash.length === 32, "block_id.hash empty");
  check(block.block.header.appHash.length > 0, "app_hash empty");
  check(block.block.txs.some((t) => sameBytes(t, commitTx)), "committed tx not in its block");
  const latest = await step("block(latest)", () => client.block());
  check(latest.block.header.height >= commit.height, "latest block below the commit");
  summary.block = { height: block.block.header.height, hash: hex(block.blockId.hash), txs: block.block.txs.length,
    appHash: hex(block.block.header.appHash), chainId: block.block.header.chainId };

  const chain = await step("blockchain", () => client.blockchain());
  check(chain.lastHeight >= commit.height, `blockchain lastHeight ${chain.lastHeight}`);
  check(chain.blockMetas.length > 0, "blockchain has no block metas");
  check(chain.blockMetas.every((m) => m.blockId.hash.length === 32), "block meta without hash");
  const ranged = await step("blockchain(1, h)", () => client.blockchain(1, commit.height));
  check(ranged.blockMetas.some((m) => m.header.height === commit.height), "blockchain(1, h) lacks h");
  summary.blockchain = { lastHeight: chain.lastHeight, metas: chain.blockMetas.length };

  const tx = await step("tx", () => client.tx({ hash: Buffer.from(summary.commit.hash, "hex") }));
  check(tx.height === commit.height, `tx height ${tx.height} != ${commit.height}`);
  check(tx.result.code === 0, `tx code ${tx.result.code}`);
  check(sameBytes(tx.tx, commitTx), "tx bytes differ");
  check(sameBytes(tx.hash, commit.hash), "tx hash differs");
  const syncFound = await step("tx(sync)", () => client.tx({ hash: sync.hash }));
  check(syncFound.height > 0 && syncFound.height <= commit.height, `sync tx height ${syncFound.height}`);
  summary.tx = { hash: hex(tx.hash), height: tx.height, index: tx.index, code: tx.result.code, syncHeight: syncFound.height };

  const query = await step("abciQuery", () => client.abciQuery({ path: `/account/${account}`, data: new Uint8Array() }));
  check(query.code === 0, `abciQuery code ${query.code}: ${query.log}`);
  const accountState = JSON.parse(Buffer.from(query.value).toString("utf8"));
  check(accountState.address === account, `abciQuery answered for ${accountState.address}`);
  summary.account = { address: accountState.address, balance: accountState.balance, nonce: accountState.nonce, height: query.height };

  // The rest of the Comet38 client's surface, each decoded by cosmjs.
  const results = await step("blockResults", () => client.blockResults(commit.height));
  check(results.height === commit.height && results.results.length === block.block.txs.length, "block_results mismatch");
  const signed = await step("commit", () => client.commit(commit.height));
  check(signed.canonical && signed.commit.signatures.length === 1, "commit without one signature");
  check(sameBytes(signed.commit.blockId.hash, block.blockId.hash), "commit for another block");
  const genesis = await step("genesis", () => client.genesis());
  check(genesis.chainId === status.nodeInfo.network, `genesis chain_id ${genesis.chainId}`);
  const validators = await step("validators", () => client.validators({}));
  check(validators.total === 1 && validators.validators.length === 1, "validators");
  const search = await step("txSearch", () => client.txSearch({ query: `transfer.sender='${account}'` }));
  check(search.totalCount >= 2 && search.txs.length >= 2, `txSearch found ${search.totalCount}`);
  const info = await step("abciInfo", () => client.abciInfo());
  check((info.lastBlockHeight ?? 0) >= commit.height, "abci_info last_block_height");
  await step("health", () => client.health());
  const pending = await step("numUnconfirmedTxs", () => client.numUnconfirmedTxs());
  check(pending.total >= 0, "num_unconfirmed_txs");
  // Re-sending a committed tx: refused (stale nonce), but the answer must still decode with its hash.
  const asyncTx = await step("broadcastTxAsync", () => client.broadcastTxAsync({ tx: syncTx }));
  check(sameBytes(asyncTx.hash, sync.hash), "broadcastTxAsync hash");
  check(typeof asyncTx.code === "number", "broadcastTxAsync code");
  summary.more = { blockResults: results.results.length, commitSignatures: signed.commit.signatures.length,
    genesisChainId: genesis.chainId, validators: validators.total, txSearch: search.totalCount,
    abciInfoHeight: info.lastBlockHeight ?? null, unconfirmed: pending.total };

  client.disconnect();
  process.stdout.write(JSON.stringify(summary) + "\n");
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`cosmjs-check failed: ${e?.stack ?? e}`);
    process.exit(1);
  },
);
