"""Image-quality metrics, thin wrappers over tf.image so nobody re-derives PSNR or SSIM by hand.

All take float images in [0, 1], shape (N, 28, 28, 1), and return one value per image.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

_CHUNK = 2000  # keeps SSIM's intermediate tensors small on a 2-core machine


def _per_image(fn, a, b):
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    return np.concatenate([fn(tf.constant(a[i:i + _CHUNK]), tf.constant(b[i:i + _CHUNK])).numpy()
                           for i in range(0, len(a), _CHUNK)])


def psnr(reference, image):
    """Peak signal-to-noise ratio in dB per image (inf where the images are identical)."""
    return _per_image(lambda r, x: tf.image.psnr(r, x, max_val=1.0), reference, image)


def ssim(reference, image):
    """Structural similarity per image (1 = identical), 11×11 Gaussian window as tf.image defaults."""
    return _per_image(lambda r, x: tf.image.ssim(r, x, max_val=1.0), reference, image)


@tf.function(reduce_retracing=True, autograph=False,  # see core.pretrained.compiled_forward
             input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)] * 2)
def _quality(r, x):
    return tf.image.psnr(r, x, max_val=1.0), tf.image.ssim(r, x, max_val=1.0)


def quality(reference, image):
    """(PSNR in dB, SSIM) per image in one traced call: what a page shows for a row of digits, without
    a dozen eager ops per image on every rerun. The same figures as psnr() and ssim()."""
    r = np.asarray(reference, np.float32).reshape(-1, 28, 28, 1)
    x = np.asarray(image, np.float32).reshape(-1, 28, 28, 1)
    if r.shape != x.shape:
        raise ValueError(f"images differ in shape: {r.shape} vs {x.shape}")
    p, s = _quality(tf.constant(r), tf.constant(x))
    return p.numpy(), s.numpy()


def bce(reference, image):
    """Mean per-pixel binary cross-entropy per image: the seed autoencoder's training loss."""
    fn = lambda r, x: tf.reduce_mean(tf.keras.losses.binary_crossentropy(r, x), axis=(1, 2))  # noqa: E731
    return _per_image(fn, reference, image)


def neg_elbo(vae, images, samples: int = 1, seed: int = 0, batch_size: int = 1000):
    """Negative ELBO per image in nats (lower = the VAE finds the digit more typical): summed per-pixel
    binary cross-entropy + KL, averaged over `samples` draws of z. Same `seed` → same figures."""
    x = np.asarray(images, np.float32)
    total = np.zeros(len(x), np.float64)
    for k in range(samples):
        for i in range(0, len(x), batch_size):
            # one fixed draw per (sample, batch): the figures repeat exactly for the same batch_size
            recon, kl = vae.neg_elbo(tf.constant(x[i:i + batch_size]), seed=seed + 7919 * k + i)
            total[i:i + batch_size] += np.asarray(recon) + np.asarray(kl)
    return total / samples


def roc(is_anomaly, score):
    """(false positive rates, true positive rates, thresholds, AUROC) from scikit-learn; higher score = more anomalous."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, thresholds = roc_curve(is_anomaly, score)
    return fpr, tpr, thresholds, float(roc_auc_score(is_anomaly, score))


def neg_elbo_terms(vae, image, index: int, count: int, samples: int = 1, seed: int = 0, batch_size: int = 1000):
    """(reconstruction, KL) in nats for one image: the two terms neg_elbo() adds for it, from the very draws of z
    it gets there. `image` is images[index] of the `count` images neg_elbo(vae, images, samples, seed, batch_size)
    scores; so reconstruction + KL is that image's figure in it, and one digit's share of a mean over the test set
    (the manifest's) is shown without running the other 9,999.

    Reconstruction: binary cross-entropy summed over the 784 pixels, from the decoder's logits at z = μ + σ·ε.
    KL: KL(N(μ, σ²) ‖ N(0, I)) in closed form. Both as core.models.VAE.neg_elbo computes them in training."""
    import keras

    index, count = int(index), int(count)
    if not 0 <= index < count:
        raise ValueError(f"image {index} is not one of {count}")
    x = np.asarray(image, np.float32).reshape(1, 28, 28, 1)
    z_mean, z_log_var = vae.encoder(tf.constant(x), training=False)
    start = index - index % batch_size
    rows = min(batch_size, count - start)
    # neg_elbo() draws ε for a whole batch at once, one seed per (sample, batch): this image's row of each draw
    eps = keras.ops.stack([keras.random.normal((rows, vae.latent_dim), seed=seed + 7919 * k + start)[index - start]
                           for k in range(samples)])
    z = z_mean + keras.ops.exp(0.5 * z_log_var) * eps
    logits = vae.decoder(z, training=False)
    recon = keras.ops.sum(keras.ops.binary_crossentropy(np.repeat(x, samples, axis=0), logits, from_logits=True),
                          axis=(1, 2, 3))
    kl = -0.5 * keras.ops.sum(1 + z_log_var - keras.ops.square(z_mean) - keras.ops.exp(z_log_var), axis=-1)
    return float(np.mean(np.asarray(recon, np.float64))), float(np.asarray(kl, np.float64)[0])
