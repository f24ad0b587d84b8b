"""The optimisers of the image: the original's loop of NAG (or Adam) steps, and scipy's L-BFGS-B.
Both evaluate the same loss (loss_setup) and report every epoch through an EpochReporter."""
import logging

from neural_style.mxnet_runtime import mx
import numpy as np

from neural_style.gatys.loss import forward_backward, loss_names, start_epoch, terms_gradient, weighted_losses

# --lr when not given. Adam moves each pixel by about lr per step whatever the gradient's scale, so
# on pixels of about +-128 it needs a far larger rate than NAG, whose step is lr times the gradient.
# 5 did best after 300 epochs (on the tests' random weights: 64 px of 1, 3, 10, 30; 128 px of 2, 5,
# 10), where 10, jcjohnson/neural-style's Adam rate on the same 0-255 scale, oscillated.
DEFAULT_LR = {'nag': .001, 'adam': 5.}


def step_optimizer(args):
    """The MXNet optimizer of --optimizer nag (the original's) or adam. Both get the same learning-rate
    schedule and weight decay, so that those flags mean the same for both."""
    # base_lr given here, as the optimizer would set it, so that MXNet does not print that it overrode it
    lr = mx.lr_scheduler.FactorScheduler(step=args.lr_sched_delay, factor=args.lr_sched_factor, base_lr=args.lr)
    if args.optimizer == 'adam':
        return mx.optimizer.Adam(learning_rate=args.lr, wd=0.0001, lr_scheduler=lr)
    return mx.optimizer.NAG(
        learning_rate=args.lr,
        wd=0.0001,
        momentum=0.95,
        lr_scheduler=lr)


def optimize_steps(args, loss, img, reporter):
    """The original's loop: a step of the optimizer (NAG, or Adam) per epoch on the clipped loss
    gradient plus the image terms' (TV) gradient, stopping when the image changes by less than
    --stop-eps. Updates img in place and returns the number of epochs done."""
    model_executor = loss.model_executor
    optimizer = step_optimizer(args)
    optim_state = optimizer.create_state(0, img)

    # one buffer each, written in place every epoch (out=): an epoch allocates no image-sized arrays, so
    # the heap does not fragment as the run goes on; broadcast_add and broadcast_sub are what + and - do
    old_img = img.copyto(img.context)
    step_gradient = mx.nd.zeros(img.shape, ctx=img.context)
    change = mx.nd.zeros(img.shape, ctx=img.context)
    clip_norm = 1 * np.prod(img.shape)
    epochs_done = 0
    for e in range(reporter.first_epoch, reporter.last_epoch):
        reporter.check_interrupted(e)
        img.copyto(model_executor.data)
        start_epoch(loss)
        forward_backward(loss)
        gnorm = mx.nd.norm(model_executor.data_grad).asscalar()
        if gnorm > clip_norm:
            model_executor.data_grad[:] *= clip_norm / gnorm

        terms = terms_gradient(loss)
        if terms is not None:
            mx.nd.broadcast_add(model_executor.data_grad, terms, out=step_gradient)
        optimizer.update(0, img, step_gradient if terms is not None else model_executor.data_grad, optim_state)
        epochs_done += 1
        mx.nd.broadcast_sub(old_img, img, out=change)
        eps = (mx.nd.norm(change) / mx.nd.norm(img)).asscalar()
        img.copyto(old_img)
        logging.info('epoch %d, relative change %f', e, eps)
        reporter.check_finite(np.isfinite(eps), e, 'image', 'a smaller --lr or smaller loss weights')
        if eps < args.stop_eps:
            logging.info('eps < args.stop_eps, training finished')
            break
        # the executors still hold the image this epoch's gradient was computed at (before its step)
        reporter.epoch_done(e + 1, eps, img, lambda: weighted_losses(loss))
    return epochs_done


def lbfgs_objective(loss):
    """The function L-BFGS minimises, over the image's pixels as a flat float64 vector x:
    objective(x) -> (f, gradient, losses). f is the weighted losses plus the image terms' energies
    (weighted_losses; losses: their values, content, style, tv ...), its gradient the loss
    executor's input gradient plus the terms' gradients, not clipped: clipping would make f and its
    gradient disagree. MXNet computes in float32."""
    model_executor = loss.model_executor

    def objective(x):
        model_executor.data[:] = x.reshape(model_executor.data.shape)
        forward_backward(loss)
        gradient = model_executor.data_grad.asnumpy().astype(np.float64)
        terms = terms_gradient(loss)
        if terms is not None:
            gradient += terms.asnumpy()
        named = weighted_losses(loss)
        return sum(value for _, value in named), gradient.ravel(), tuple(value for _, value in named)
    return objective


class StopLbfgs(Exception):
    """Raised inside scipy's L-BFGS-B to stop it by a rule of ours; the message says which."""


class LossChanged(Exception):
    """Raised inside scipy's L-BFGS-B when the loss changed at an iterate (the MRF loss re-matched):
    its memory of the old loss's gradients and values no longer holds, so it starts again there."""


def optimize_lbfgs(args, loss, img, reporter):
    """scipy's L-BFGS-B on the image's pixels (lbfgs_objective). An epoch is an L-BFGS iteration for
    the log, the checkpoints, --print-epochs and the callback, but the epoch budget counts function
    evaluations (one forward and backward each, the cost of a NAG epoch): a line search can take
    several per iteration. It stops at scipy's own tests (no more decrease of f, even in the line
    search, or a gradient of ~0) or when the budget is spent, not on --stop-eps: the change of one
    iteration jumps up and down by 10x (measured), so a small one says little. Each iteration
    starts an epoch (start_epoch): where that changes the loss (the MRF loss re-matches), L-BFGS
    starts again from that iterate, so that within a run of it the loss stays one smooth function.
    Sets img to each new iterate and returns the number of iterations."""
    import scipy.optimize  # only L-BFGS runs pay for its import
    budget = reporter.last_epoch - reporter.first_epoch
    objective = lbfgs_objective(loss)
    names = loss_names(loss)
    iterate = img.asnumpy().astype(np.float64).ravel()  # the last accepted image
    iteration, evaluations = reporter.first_epoch, 0
    evaluated = (None, None)  # the last evaluated x and its losses

    def value_and_gradient(x):
        nonlocal evaluations, evaluated
        reporter.check_interrupted(iteration)
        if evaluations == budget:  # scipy's maxfun lets the line search finish first
            raise StopLbfgs('the budget of %d function evaluations is spent' % budget)
        evaluations += 1
        value, gradient, losses = objective(x)
        reporter.check_finite(np.isfinite(value) and np.isfinite(gradient).all(), iteration, 'loss',
                              'smaller loss weights')
        evaluated = (x.copy(), losses)
        return value, gradient

    def after_iteration(x):
        nonlocal iterate, iteration
        eps = np.linalg.norm(x - iterate) / np.linalg.norm(x)
        iterate = x.copy()
        img[:] = x.reshape(img.shape)
        logging.info('epoch %d, relative change %f', iteration, eps)
        iteration += 1
        if not np.array_equal(evaluated[0], x):  # the losses logged must be x's: L-BFGS-B accepts
            value_and_gradient(x)                # the point it evaluated last, but should it not, evaluate x
        reporter.epoch_done(iteration, eps, img, lambda: list(zip(names, evaluated[1])))
        if evaluations < budget and starts_epoch(x):
            raise LossChanged()

    def starts_epoch(x):
        """start_epoch at x; without hooks (the Gram loss) nothing happens and the loss stays."""
        if not loss.hooks:
            return False
        loss.model_executor.data[:] = x.reshape(img.shape)
        return start_epoch(loss)

    starts_epoch(iterate)
    while True:
        try:
            result = scipy.optimize.minimize(value_and_gradient, iterate, jac=True, method='L-BFGS-B',
                                             callback=after_iteration,
                                             options={'maxfun': budget - evaluations, 'maxiter': budget,
                                                      'maxcor': args.lbfgs_num_correction})
            reason = result.message
        except LossChanged:
            continue  # from the iterate where the loss changed, with no memory of the old one
        except StopLbfgs as stop:
            reason = str(stop)
        break
    logging.info('L-BFGS stopped after %d iterations and %d function evaluations: %s',
                 iteration - reporter.first_epoch, evaluations, reason)
    return iteration - reporter.first_epoch


def optimize(args, loss, img, reporter):
    """--optimizer: L-BFGS, or the loop of NAG or Adam steps."""
    return (optimize_lbfgs if args.optimizer == 'lbfgs' else optimize_steps)(args, loss, img, reporter)
