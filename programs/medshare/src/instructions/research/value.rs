use anchor_lang::prelude::*;

use encrypted_ixs::point::Point;
use encrypted_ixs::stats::{
    verify_bit, verify_bucket_cts, verify_square_cts, BitProof, ElGamal, EncryptedBit,
    ProductProof, ValueContext, ZeroProof,
};

use super::check_shape;
use crate::constants::{SEED_RESEARCH_CONSENT, SEED_RESEARCH_VALUE};
use crate::error::MedshareError;
use crate::events::ResearchValueSealed;
use crate::state::{
    slice_count, slice_position, ElGamalData, PatientRecord, ResearchConsent, ResearchValue,
};
use crate::utils::accounts;

/// One slice as posted: its ciphertext and its bit proof (160 bytes).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct BitArg {
    /// `R = r·B`.
    pub r: [u8; 32],
    /// `C = b·B + r·P`.
    pub c: [u8; 32],
    /// Challenge of the `b = 0` branch.
    pub c0: [u8; 16],
    /// Challenge of the `b = 1` branch.
    pub c1: [u8; 16],
    /// Response of the `b = 0` branch.
    pub z0: [u8; 32],
    /// Response of the `b = 1` branch.
    pub z1: [u8; 32],
}

impl From<BitArg> for EncryptedBit {
    fn from(a: BitArg) -> Self {
        EncryptedBit {
            ct: ElGamal {
                r: Point(a.r),
                c: Point(a.c),
            },
            proof: BitProof {
                c0: a.c0,
                c1: a.c1,
                z0: a.z0,
                z1: a.z1,
            },
        }
    }
}

impl From<EncryptedBit> for BitArg {
    fn from(b: EncryptedBit) -> Self {
        BitArg {
            r: b.ct.r.0,
            c: b.ct.c.0,
            c0: b.proof.c0,
            c1: b.proof.c1,
            z0: b.proof.z0,
            z1: b.proof.z1,
        }
    }
}

/// Arguments of `post_research_value`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct PostValueArgs {
    /// Field id.
    pub field: [u8; 32],
    /// Bits of the value.
    pub bits: u8,
    /// Histogram by the top `bucket_bits` bits (0: none).
    pub bucket_bits: u8,
    /// Index of the first slice in `slices` (must be the next one).
    pub offset: u16,
    /// Slices, in order (five fit one transaction).
    pub slices: Vec<BitArg>,
}

/// Accounts of `post_research_value`.
#[derive(Accounts)]
#[instruction(args: PostValueArgs)]
pub struct PostResearchValue<'info> {
    /// The record owner; pays.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The record (its cluster key is the value's).
    #[account(has_one = owner @ MedshareError::NotOwner)]
    pub record: Account<'info, PatientRecord>,
    /// The record's research consent (must name the field).
    #[account(seeds = [SEED_RESEARCH_CONSENT, record.key().as_ref()], bump = consent.bump)]
    pub consent: Account<'info, ResearchConsent>,
    /// The value (created by the handler with the first slices).
    /// CHECK: address fixed by the seeds; read as a `ResearchValue` if it exists.
    #[account(
        mut,
        seeds = [SEED_RESEARCH_VALUE, record.key().as_ref(), args.field.as_ref()],
        bump
    )]
    pub value: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// What a value's proofs are bound to.
fn value_context(record: &Account<PatientRecord>, field: [u8; 32]) -> ValueContext {
    ValueContext {
        program_id: crate::ID.to_bytes(),
        cluster: record.cluster.to_bytes(),
        record: record.key().to_bytes(),
        owner: record.owner.to_bytes(),
        field,
    }
}

/// The consent must be of this record generation, active, and name the field.
fn check_consent(
    consent: &ResearchConsent,
    record: &PatientRecord,
    field: &[u8; 32],
) -> Result<()> {
    require!(
        consent.record_generation == record.generation,
        MedshareError::ConsentMissing
    );
    let (researcher, purpose) = (consent.researcher, consent.purpose.clone());
    consent.check(&researcher, &purpose, field, Clock::get()?.unix_timestamp)?;
    Ok(())
}

impl PostResearchValue<'_> {
    /// A value shape the statistics support, under an active research
    /// consent of this record generation that names the field. (What the
    /// value already holds is checked where the handler loads it, once.)
    pub fn validate(&self, args: &PostValueArgs) -> Result<()> {
        check_shape(args.bits, args.bucket_bits)?;
        check_consent(&self.consent, &self.record, &args.field)
    }

    /// Verifies each slice's bit proof at its position (value bit `j`,
    /// square bit `64 + j`, bucket `128 + j`) and stores its ciphertext.
    /// Slices come in order, each once; a sealed value cannot change.
    #[access_control(ctx.accounts.validate(&args))]
    pub fn handler(ctx: Context<PostResearchValue>, args: PostValueArgs) -> Result<()> {
        let accs = &ctx.accounts;
        let total = slice_count(args.bits, args.bucket_bits);
        let existing: Option<ResearchValue> = accounts::load(&accs.value)?;
        let fresh = existing.is_none();
        if let Some(old) = &existing {
            require!(
                old.record_generation == accs.record.generation,
                MedshareError::ValueStale
            );
            require!(
                old.field == args.field
                    && old.bits == args.bits
                    && old.bucket_bits == args.bucket_bits,
                MedshareError::FieldMismatch
            );
            require!(!old.sealed, MedshareError::ValueSealed);
        }
        let posted = existing.as_ref().map_or(0, |value| value.posted as usize);
        require!(
            args.offset as usize == posted
                && !args.slices.is_empty()
                && posted + args.slices.len() <= total,
            MedshareError::SlicesOutOfOrder
        );
        let ctx_v = value_context(&accs.record, args.field);
        let key = Point(accs.record.cluster_key);
        for (k, s) in args.slices.iter().enumerate() {
            let pos = slice_position(args.bits, posted + k);
            verify_bit(&ctx_v, &key, pos, &EncryptedBit::from(*s))
                .map_err(|_| error!(MedshareError::InvalidValueProof))?;
        }
        let (record, owner, cluster) = (accs.record.key(), accs.owner.key(), accs.record.cluster);
        let generation = accs.record.generation;
        let mut value = match existing {
            Some(old) => old,
            None => accounts::blank::<ResearchValue>()?,
        };
        if fresh {
            value.record = record;
            value.owner = owner;
            value.cluster = cluster;
            value.record_generation = generation;
            value.field = args.field;
            value.bits = args.bits;
            value.bucket_bits = args.bucket_bits;
            value.bump = ctx.bumps.value;
            value.slices = Vec::with_capacity(total);
        }
        value
            .slices
            .extend(args.slices.iter().map(|s| ElGamalData { r: s.r, c: s.c }));
        value.posted = value.slices.len() as u16;
        accounts::create_or_store(
            &accs.value,
            &accs.owner,
            &accs.system_program,
            &[
                SEED_RESEARCH_VALUE,
                record.as_ref(),
                args.field.as_ref(),
                &[value.bump],
            ],
            ResearchValue::space(args.bits, args.bucket_bits),
            &value,
        )
    }
}

/// A [`ProductProof`] as an argument.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ProductProofArg {
    /// Challenge.
    pub c: [u8; 16],
    /// Response for `a`.
    pub z_a: [u8; 32],
    /// Response for `r_a`.
    pub z_r: [u8; 32],
    /// Response for `t`.
    pub z_t: [u8; 32],
}

/// A [`ZeroProof`] as an argument.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ZeroProofArg {
    /// Challenge.
    pub c: [u8; 16],
    /// Response.
    pub z: [u8; 32],
}

/// Arguments of `seal_research_value`: the relation proofs its shape needs.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SealValueArgs {
    /// The square proof (values of more than one bit).
    pub square: Option<ProductProofArg>,
    /// The bucket's proofs, sums-to-one and matches-value (with a histogram).
    pub bucket: Option<(ZeroProofArg, ZeroProofArg)>,
}

/// Accounts of `seal_research_value`.
#[derive(Accounts)]
pub struct SealResearchValue<'info> {
    /// The record owner.
    pub owner: Signer<'info>,
    /// The record.
    #[account(has_one = owner @ MedshareError::NotOwner)]
    pub record: Account<'info, PatientRecord>,
    /// The record's cluster: the seal is in its history, where researchers
    /// find the values a study can take.
    /// CHECK: only its address is used (it must be the record's cluster).
    #[account(address = record.cluster @ MedshareError::WrongCluster)]
    pub cluster: UncheckedAccount<'info>,
    /// The value.
    #[account(
        mut,
        seeds = [SEED_RESEARCH_VALUE, record.key().as_ref(), value.field.as_ref()],
        bump = value.bump
    )]
    pub value: Account<'info, ResearchValue>,
}

impl SealResearchValue<'_> {
    /// Not sealed yet, and every slice posted.
    pub fn validate(&self) -> Result<()> {
        let value = &self.value;
        require!(!value.sealed, MedshareError::ValueSealed);
        require!(
            value.slices.len() == slice_count(value.bits, value.bucket_bits),
            MedshareError::ValueNotSealed
        );
        Ok(())
    }

    /// Verifies the square relation (`bits > 1`) and the bucket relations
    /// (with a histogram) over the stored ciphertexts; the value may then
    /// join studies.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<SealResearchValue>, args: SealValueArgs) -> Result<()> {
        let accs = &ctx.accounts;
        let value = &accs.value;
        let (bits, h) = (value.bits as usize, value.bucket_bits);
        let ctx_v = value_context(&accs.record, value.field);
        let key = Point(accs.record.cluster_key);
        let bad = |_| error!(MedshareError::InvalidValueProof);
        let value_cts: Vec<ElGamal> = value.slices[..bits].iter().map(|e| (*e).into()).collect();
        if bits > 1 {
            let proof = args.square.ok_or(MedshareError::InvalidValueProof)?;
            let square: Vec<ElGamal> = value.slices[bits..3 * bits]
                .iter()
                .map(|e| (*e).into())
                .collect();
            let proof = ProductProof {
                c: proof.c,
                z_a: proof.z_a,
                z_r: proof.z_r,
                z_t: proof.z_t,
            };
            verify_square_cts(&ctx_v, &key, &value_cts, &square, &proof).map_err(bad)?;
        }
        if h > 0 {
            let (one, matches) = args.bucket.ok_or(MedshareError::InvalidValueProof)?;
            let one_hot: Vec<ElGamal> = value.slices[3 * bits..]
                .iter()
                .map(|e| (*e).into())
                .collect();
            let zero = |z: ZeroProofArg| ZeroProof { c: z.c, z: z.z };
            verify_bucket_cts(
                &ctx_v,
                &key,
                &value_cts,
                h,
                &one_hot,
                &zero(one),
                &zero(matches),
            )
            .map_err(bad)?;
        }
        let value = &mut ctx.accounts.value;
        value.sealed = true;
        crate::emit_event!(ResearchValueSealed {
            value: value.key(),
            record: value.record,
            owner: value.owner,
            cluster: value.cluster,
            field: value.field,
            bits: value.bits,
            bucket_bits: value.bucket_bits,
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
