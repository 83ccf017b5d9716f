import type { NodeHeartbeat } from "./membership-store";
import { describeMembershipStoreContract } from "./membership-store.contract";
import { MemoryMembershipStore } from "./memory-membership-store";

describeMembershipStoreContract("MemoryMembershipStore", async () => {
  const table = new Map<string, NodeHeartbeat>();
  return { open: async () => new MemoryMembershipStore(table), cleanup: async () => undefined };
});
