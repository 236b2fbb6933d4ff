//! Consent, pull requests and record policies.
//!
//! A patient grants a grantee (a wallet with a registered encryption key)
//! consent to request chosen field groups of one record until an end time.
//! The grantee can then pull a share while the patient is offline; the
//! program checks the consent (and, if the record requires it, that the
//! grantee is a verified provider of an allowed role) when the request is
//! made, the nodes check it again before contributing, and the callback
//! checks it a last time. A refused pull is recorded on-chain.
//!
//! Revocation stops every later request and every pending computation; it
//! cannot recall data a grantee already decrypted.

use anchor_lang::error::ErrorCode;
use medshare::error::MedshareError;
use medshare::events::PullRefused;
use medshare::instructions::ConsentArgs;
use medshare::state::{Cluster, Consent, PatientRecord, Provider};
use medshare_sdk::chain::fetch;
use medshare_sdk::ix;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use super::{Client, ShareTicket};
use crate::error::{ClientError, Result};

impl Client {
    /// The registry accounts to pass for `wallet` when `record` requires
    /// verified providers (`None` when it does not, or `wallet` is not registered).
    pub(crate) async fn registry_for(
        &self,
        record: &PatientRecord,
        wallet: &Pubkey,
    ) -> Result<Option<(Pubkey, Pubkey)>> {
        if record.required_roles == 0 {
            return Ok(None);
        }
        let provider = medshare::pda::provider(&record.cluster, wallet);
        Ok(fetch::<Provider>(self.chain.as_ref(), &provider)
            .await?
            .map(|prov| {
                (
                    provider,
                    medshare::pda::issuer(&record.cluster, &prov.issuer),
                )
            }))
    }

    /// Grants `grantee` consent to request `group_mask` of `record` until `expires_at`.
    pub async fn grant_consent(
        &self,
        record: &Pubkey,
        grantee: &Pubkey,
        group_mask: u8,
        purpose: &str,
        expires_at: i64,
    ) -> Result<Pubkey> {
        let account = self.record(record).await?;
        let registry = self.registry_for(&account, grantee).await?;
        let consent = medshare::pda::consent(record, grantee);
        let args = ConsentArgs {
            group_mask,
            purpose: purpose.to_string(),
            expires_at,
        };
        let ix = ix::grant_consent(self.wallet.pubkey(), *record, *grantee, args, registry);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(consent)
    }

    /// Changes an active consent.
    pub async fn modify_consent(
        &self,
        record: &Pubkey,
        grantee: &Pubkey,
        group_mask: u8,
        purpose: &str,
        expires_at: i64,
    ) -> Result<()> {
        let args = ConsentArgs {
            group_mask,
            purpose: purpose.to_string(),
            expires_at,
        };
        let ix = ix::modify_consent(self.wallet.pubkey(), *record, *grantee, args);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// Revokes a consent (works after the record was closed too).
    pub async fn revoke_consent(&self, record: &Pubkey, grantee: &Pubkey) -> Result<()> {
        let ix = ix::revoke_consent(self.wallet.pubkey(), *record, *grantee);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// Closes a consent (revoking it if active); its rent returns to the
    /// owner. Works after the record was closed too.
    pub async fn close_consent(&self, record: &Pubkey, grantee: &Pubkey) -> Result<()> {
        let ix = ix::close_consent(self.wallet.pubkey(), *record, *grantee);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// Every consent ever granted on `record`, as it stands now.
    pub async fn consents(&self, record: &Pubkey) -> Result<Vec<(Pubkey, Consent)>> {
        let mut grantees: Vec<Pubkey> = Vec::new();
        for entry in self.chain.history(record).await? {
            for ev in medshare_sdk::events::events::<medshare::events::ConsentChanged>(&entry.logs)
            {
                if !grantees.contains(&ev.grantee) {
                    grantees.push(ev.grantee);
                }
            }
        }
        let mut out = Vec::new();
        for grantee in grantees {
            let addr = medshare::pda::consent(record, &grantee);
            if let Some(consent) = fetch::<Consent>(self.chain.as_ref(), &addr).await? {
                out.push((addr, consent));
            }
        }
        Ok(out)
    }

    /// Pulls a share of `group_mask` of someone's `record` under this wallet's
    /// consent. A refusal is recorded on-chain and returned as
    /// [`ClientError::Refused`].
    pub async fn request(&self, record: &Pubkey, group_mask: u8) -> Result<ShareTicket> {
        let account = self.record(record).await?;
        let me = self.wallet.pubkey();
        let registry = self.registry_for(&account, &me).await?;
        for _ in 0..super::shares::COMPUTATION_ID_RETRIES {
            let cluster: Cluster = fetch(self.chain.as_ref(), &account.cluster)
                .await?
                .ok_or_else(|| ClientError::ClusterNotFound(account.cluster.to_string()))?;
            let (ix, computation, share_result) = ix::request_share(
                me,
                *record,
                account.cluster,
                cluster.next_computation,
                group_mask,
                registry,
            );
            match self.chain.send(&[ix], &[&self.wallet]).await {
                Ok(landed) => {
                    if let Some(refused) =
                        medshare_sdk::events::events::<PullRefused>(&landed.logs).first()
                    {
                        return Err(ClientError::Refused(
                            MedshareError::from_code(refused.reason)
                                .map(|e| e.to_string())
                                .unwrap_or_else(|| format!("error code {}", refused.reason)),
                        ));
                    }
                    // Without logs (an endpoint that did not deliver them),
                    // the state says: a granted pull created the computation.
                    if landed.logs.is_empty()
                        && fetch::<medshare::state::Computation>(self.chain.as_ref(), &computation)
                            .await?
                            .is_none_or(|created| created.requester != me)
                    {
                        return Err(ClientError::Refused(
                            "the program refused the pull (the reason is on the record's audit trail)"
                                .into(),
                        ));
                    }
                    return Ok(ShareTicket {
                        computation,
                        share_result,
                    });
                }
                // The computation id moved on (another request landed first): retry.
                Err(e) if matches!(e.medshare(), Some(MedshareError::WrongComputation)) => continue,
                // No identity account: the grantee never registered.
                Err(e) if matches!(e.anchor(), Some(ErrorCode::AccountNotInitialized)) => {
                    return Err(ClientError::NoIdentity(me.to_string()))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ClientError::Invalid(
            "too many concurrent requests on this cluster; try again".into(),
        ))
    }

    /// Sets the record's provider policy.
    pub async fn set_policy(&self, record: &Pubkey, required_roles: u8) -> Result<()> {
        let ix = ix::set_record_policy(self.wallet.pubkey(), *record, required_roles);
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }
}
