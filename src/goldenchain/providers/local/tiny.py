"""Tiny random-weight FLUX and SVD pipelines, built in code and saved as diffusers folders: the same layout
and classes as the real weights (``model_index.json``, ``transformer/``, ``vae/``, ...), a few hundred
thousand parameters instead of billions. Tests and the benchmark load them through the route's own loader,
so everything but the weights' quality is what a real run does. Needs the ``local`` extra."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["save_tiny_flux", "save_tiny_svd"]

#: FLUX: five VAE levels (latents 1/16 of the image, sides a multiple of 32) of 4 channels, so a full-size
#: still takes seconds on a CPU; SVD: four (1/8, as the real one), of 32 (its norms have 32 groups)
_FLUX_LEVELS, _FLUX_CH = 5, 4
_SVD_LEVELS = 4


def _tokenizer() -> Any:
    """A byte-level BPE tokenizer with no merges: every byte is a token, nothing is ever unknown."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    specials = ["<pad>", "<s>", "</s>"]
    vocab = {tok: i for i, tok in enumerate(specials + sorted(alphabet))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", model_max_length=77
    )


def save_tiny_flux(path: Path | str, *, guidance: bool = False, seed: int = 0) -> Path:
    """A FluxPipeline (schnell-like; ``guidance=True``: dev-like, with guidance embeddings) at ``path``."""
    import torch
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    torch.manual_seed(seed)
    latent = 4
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=latent * 4,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        pooled_projection_dim=32,
        guidance_embeds=guidance,
        axes_dims_rope=(4, 6, 6),
    )
    clip = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=259,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            projection_dim=32,
            max_position_embeddings=77,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
        )
    )
    t5 = T5EncoderModel(
        T5Config(vocab_size=259, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, pad_token_id=0)
    )
    vae = AutoencoderKL(
        block_out_channels=(_FLUX_CH,) * _FLUX_LEVELS,
        down_block_types=("DownEncoderBlock2D",) * _FLUX_LEVELS,
        up_block_types=("UpDecoderBlock2D",) * _FLUX_LEVELS,
        layers_per_block=1,
        latent_channels=latent,
        norm_num_groups=_FLUX_CH // 2,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    )
    pipe: Any = FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True),
        vae=vae,
        text_encoder=clip,
        tokenizer=_tokenizer(),
        text_encoder_2=t5,
        tokenizer_2=_tokenizer(),
        transformer=transformer,
    )
    out = Path(path)
    pipe.save_pretrained(out)
    return out


def save_tiny_svd(path: Path | str, *, seed: int = 0) -> Path:
    """A StableVideoDiffusionPipeline (SVD-XT's classes and frame count) at ``path``."""
    import torch
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    latent = 4
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        in_channels=latent * 2,
        out_channels=latent,
        down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
        up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
        cross_attention_dim=32,
        num_attention_heads=(2, 4),
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=24,
        num_frames=25,
    )
    vae = AutoencoderKLTemporalDecoder(
        block_out_channels=(32,) * _SVD_LEVELS,
        down_block_types=("DownEncoderBlock2D",) * _SVD_LEVELS,
        layers_per_block=1,
        latent_channels=latent,
    )
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=32,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    pipe: Any = StableVideoDiffusionPipeline(
        vae=vae,
        image_encoder=encoder,
        unet=unet,
        scheduler=scheduler,
        feature_extractor=CLIPImageProcessor(),
    )
    out = Path(path)
    pipe.save_pretrained(out)
    return out
