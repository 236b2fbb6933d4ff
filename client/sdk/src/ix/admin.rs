//! What a cluster admin signs.

use medshare::instructions::InitClusterArgs;
use medshare::{accounts as a, instruction as d, pda};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

use super::{instruction, SYSTEM};

/// `init_cluster`: creates cluster `args.cluster_id` of `admin`; returns the
/// instruction and the cluster's address.
pub fn init_cluster(admin: Pubkey, args: InitClusterArgs) -> (Instruction, Pubkey) {
    let cluster = pda::cluster(&admin, args.cluster_id);
    let ix = instruction(
        a::InitCluster {
            admin,
            cluster,
            system_program: SYSTEM,
        },
        d::InitCluster { args },
    );
    (ix, cluster)
}

/// `add_node`: the admin adds a node authority (it gets the next index).
pub fn add_node(admin: Pubkey, cluster: Pubkey, authority: Pubkey) -> Instruction {
    instruction(a::AddNode { admin, cluster }, d::AddNode { authority })
}

/// `restart_dkg`: a new DKG attempt for a running or failed DKG.
pub fn restart_dkg(admin: Pubkey, cluster: Pubkey) -> Instruction {
    instruction(a::RestartDkg { admin, cluster }, d::RestartDkg {})
}

/// `retire_cluster`: the cluster accepts nothing new.
pub fn retire_cluster(admin: Pubkey, cluster: Pubkey) -> Instruction {
    instruction(a::RetireCluster { admin, cluster }, d::RetireCluster {})
}

/// `close_cluster`: the admin closes a retired cluster (rent back to it).
pub fn close_cluster(admin: Pubkey, cluster: Pubkey) -> Instruction {
    instruction(a::CloseCluster { admin, cluster }, d::CloseCluster {})
}

/// `replace_node`: before the DKG succeeded, the admin gives node `index`
/// (authority `old`) to `authority`; `old`'s mailbox and service record
/// close, their rent back to `old`.
pub fn replace_node(
    admin: Pubkey,
    cluster: Pubkey,
    index: u8,
    old: Pubkey,
    authority: Pubkey,
) -> Instruction {
    instruction(
        a::ReplaceNode {
            admin,
            cluster,
            old_node: old,
            mailbox: pda::dkg_mailbox(&cluster, index),
            node_record: pda::node_record(&cluster, index),
        },
        d::ReplaceNode { index, authority },
    )
}
